"""b24kit's exception hierarchy: one root, classes by the action that recovers from them.

* B24Error                      root of everything b24kit raises
  x ConfigError(ValueError)     a settings file, profile or job definition is invalid; .source .line .field
    + ConfigIssues              several problems at once, the first as its own; .issues
                                (ProfileError, JobsError)
  x TransportError              network failure or timeout talking to a portal or system; Retriable;
                                .method .maybe_applied
  x ApiError                    the portal answered {"error": ...}; .method .code .description .status
    + AuthError                 401 family (NO_AUTH_FOUND, invalid_token, INVALID_CREDENTIALS)
      - TokenExpired            expired_token: refresh once, then retry
    + AccessDenied              403 family (ACCESS_DENIED, WRONG_AUTH_TYPE, user_access_error)
      - InsufficientScope       insufficient_scope: the webhook or app lacks a scope
    + InvalidRequest            400 family (INVALID_ARG_VALUE, ERROR_CORE, empty code)
    + NotFound                  NOT_FOUND, legacy "Not found", PORTAL_DELETED
      - MethodNotFound          ERROR_METHOD_NOT_FOUND: no such method (or a malformed webhook URL)
    + QueryLimitExceeded        503 QUERY_LIMIT_EXCEEDED; Retriable
    + OperationTimeLimit        429 OPERATION_TIME_LIMIT; Retriable; .reset_at
    + ServerError               5xx, OVERLOAD_LIMIT; Retriable; .maybe_applied
  x BatchError                  some batch commands failed; .errors .results
  x SyncError                   a sync run failed as a whole
    + ConnectorError            a connector's system or library failed
    + RecordError               one record failed mapping or validation; the run goes on
  x RobotError                  a robot handler failed (its text goes back to the business process)
  x JobError                    a job could not run

Every exception pickles (jobs cross process boundaries) and never carries secrets in its text.
"""

from __future__ import annotations

from typing import Any, ClassVar


class B24Error(Exception):
    """The root of every exception b24kit raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[B24Error], args: tuple[Any, ...], state: dict[str, Any]) -> B24Error:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class Retriable:
    """Marker mixin: repeating the same call later may succeed."""


class ConfigError(B24Error, ValueError):
    """Invalid configuration, profile or job definition; names the file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        self.suggestion = suggestion
        super().__init__(self.render())

    def render(self) -> str:
        where = self.source or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [f"{where}: " if where else ""]
        if self.field:
            parts.append(f"{self.field}: ")
        parts.append(self.message)
        if self.suggestion:
            parts.append(f" ({self.suggestion})")
        return "".join(parts)


class ConfigIssues(ConfigError):
    """Several configuration problems found at once; ``issues`` lists each with its file, line and field.

    The exception itself reads as the first issue, with how many more there are.
    """

    def __init__(self, issues: list[ConfigError]) -> None:
        self.issues = issues
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(
            first.message + more,
            source=first.source,
            line=first.line,
            field=first.field,
            suggestion=first.suggestion,
        )


class TransportError(B24Error, Retriable):
    """The network failed or timed out before an answer arrived.

    ``maybe_applied`` is true when the request may have reached the portal (a timeout or a
    connection dropped mid-answer), so a write may have been applied although no answer came.
    """

    def __init__(self, message: str, *, method: str | None = None, maybe_applied: bool = True) -> None:
        self.method = method
        self.maybe_applied = maybe_applied
        super().__init__(message)


class ApiError(B24Error):
    """The portal answered ``{"error": CODE, "error_description": TEXT}``.

    ``code`` is the portal's code as sent (may be empty: legacy CRM methods), ``status`` the
    HTTP status (``None`` for a command inside a batch, whose envelope answered 200), ``method``
    the REST method. Subclasses list the codes they stand for in ``codes`` (upper case); see
    ``ApiError.class_for`` for how a class is chosen.
    """

    codes: ClassVar[tuple[str, ...]] = ()
    status_family: ClassVar[int | None] = None
    _by_code: ClassVar[dict[str, type[ApiError]]] = {}
    _by_status: ClassVar[dict[int, type[ApiError]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for code in cls.__dict__.get("codes", ()):
            ApiError._by_code[code.upper()] = cls
        family = cls.__dict__.get("status_family")
        if family is not None:
            ApiError._by_status[family] = cls

    def __init__(
        self,
        description: str = "",
        *,
        code: str = "",
        method: str | None = None,
        status: int | None = None,
        maybe_applied: bool = False,
    ) -> None:
        self.description = description
        self.code = code
        self.method = method
        self.status = status
        self.maybe_applied = maybe_applied
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.method}: " if self.method else ""
        text = self.description or self.code or "error"
        detail = [f"code {self.code!r}" if self.code and self.code != text else ""]
        if self.status is not None:
            detail.append(f"HTTP {self.status}")
        extra = ", ".join(d for d in detail if d)
        return f"{where}{text}" + (f" ({extra})" if extra else "")

    @classmethod
    def class_for(cls, code: str, status: int | None, description: str = "") -> type[ApiError]:
        """The class for a portal error: by code first, then by HTTP status.

        An empty code whose description says "not found" (legacy ``crm.*.get``) is
        :class:`NotFound`; an unknown code falls back to the class of its status family
        (4xx -> :class:`InvalidRequest`, 5xx -> :class:`ServerError`).
        """
        known = cls._by_code.get(code.strip().upper()) if code else None
        if known is not None:
            return known
        if not code and "not found" in description.lower():
            return NotFound
        if status is not None:
            exact = cls._by_status.get(status)
            if exact is not None:
                return exact
            if status >= 500:
                return ServerError
        return InvalidRequest


class AuthError(ApiError):
    """The credentials were refused (401): a wrong webhook, an invalid or revoked token."""

    codes: ClassVar[tuple[str, ...]] = (
        "NO_AUTH_FOUND",
        "INVALID_TOKEN",
        "INVALID_CREDENTIALS",
        "METHOD_CONFIRM_WAITING",
        "INVALID_GRANT",
        "INVALID_CLIENT",
        "WRONG_CLIENT",
    )
    status_family = 401


class TokenExpired(AuthError):
    """The OAuth access token expired: refresh it once, then repeat the call."""

    codes: ClassVar[tuple[str, ...]] = ("EXPIRED_TOKEN",)


class AccessDenied(ApiError):
    """The caller may not do this (403): rights, plan, application context."""

    codes: ClassVar[tuple[str, ...]] = (
        "ACCESS_DENIED",
        "USER_ACCESS_ERROR",
        "ALLOWED_ONLY_INTRANET_USER",
        "WRONG_AUTH_TYPE",
        "PAYMENT_REQUIRED",
    )
    status_family = 403


class InsufficientScope(AccessDenied):
    """The webhook or application lacks the scope the method needs."""

    codes: ClassVar[tuple[str, ...]] = ("INSUFFICIENT_SCOPE", "INVALID_SCOPE")


class InvalidRequest(ApiError):
    """The portal rejected the parameters (400): fix the input, do not retry."""

    codes: ClassVar[tuple[str, ...]] = (
        "INVALID_REQUEST",
        "INVALID_ARG_VALUE",
        "ERROR_ARGUMENT",
        "ERROR_CORE",
        "BAD_REQUEST",
        "ERROR_BATCH_LENGTH_EXCEEDED",
        "ERROR_BATCH_METHOD_NOT_ALLOWED",
        "ERROR_REQUIRED_PARAMETERS_MISSING",
        "CRM_FIELD_ERROR_VALUE_NOT_VALID",
        "ENTITY_TYPE_NOT_SUPPORTED",
    )
    status_family = 400


class NotFound(ApiError):
    """The record (or the portal) does not exist."""

    codes: ClassVar[tuple[str, ...]] = (
        "NOT_FOUND",
        "ERROR_NOT_FOUND",
        "ERROR_MANIFEST_IS_NOT_AVAILABLE",
        "PORTAL_DELETED",
    )
    status_family = 404


class MethodNotFound(NotFound):
    """No such REST method on this portal (also what a malformed webhook URL gets)."""

    codes: ClassVar[tuple[str, ...]] = ("ERROR_METHOD_NOT_FOUND",)


class QueryLimitExceeded(ApiError, Retriable):
    """503: the portal's request bucket is full; the call was refused, so repeating is safe."""

    codes: ClassVar[tuple[str, ...]] = ("QUERY_LIMIT_EXCEEDED",)


class OperationTimeLimit(ApiError, Retriable):
    """429: the method used up its operating time; refused until ``reset_at`` (portal unix time)."""

    codes: ClassVar[tuple[str, ...]] = ("OPERATION_TIME_LIMIT",)
    status_family = 429

    def __init__(self, description: str = "", *, reset_at: float | None = None, **kwargs: Any) -> None:
        self.reset_at = reset_at
        super().__init__(description, **kwargs)


class ServerError(ApiError, Retriable):
    """5xx: the portal failed; ``maybe_applied`` says whether a write may have happened anyway."""

    codes: ClassVar[tuple[str, ...]] = ("INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER", "OVERLOAD_LIMIT")
    status_family = 500


class BatchError(B24Error):
    """Some commands of a batch failed: ``errors`` maps their labels to the portal's errors;
    ``results`` holds what the others returned."""

    def __init__(
        self, errors: dict[Any, ApiError | TransportError], results: dict[Any, Any] | None = None
    ) -> None:
        self.errors = errors
        self.results = results or {}
        first = next(iter(errors.items()), None)
        summary = f"; first: {first[0]}: {first[1]}" if first else ""
        super().__init__(f"{len(errors)} of {len(errors) + len(self.results)} commands failed{summary}")


class SyncError(B24Error):
    """A sync run failed as a whole."""


class ConnectorError(SyncError):
    """A connector's external system or library failed."""


class RecordError(SyncError):
    """One record could not be mapped, validated or written; the run goes on."""

    def __init__(self, message: str, *, record: str | None = None, field: str | None = None) -> None:
        self.record = record
        self.field = field
        super().__init__(message)


class RobotError(B24Error):
    """A robot handler failed; the text is sent back to the business process log."""


class JobError(B24Error):
    """A job could not be run."""

"""b24kit's exception hierarchy: one root, classes by the action that recovers from them.

* B24Error                      root of everything b24kit raises
  x ConfigError(ValueError)     a settings file, profile or job definition is invalid; .source .line .field
  x TransportError              network failure or timeout talking to a portal or system; Retriable
  x ApiError                    the portal answered {"error": ...}; .method .code .description .status
    + AuthError                 401 family (NO_AUTH_FOUND, invalid_token, INVALID_CREDENTIALS)
      - TokenExpired            expired_token: refresh once, then retry
    + AccessDenied              403 family (ACCESS_DENIED, insufficient_scope, WRONG_AUTH_TYPE)
    + InvalidRequest            400 family (INVALID_ARG_VALUE, ERROR_CORE, empty code)
    + NotFound                  NOT_FOUND, ERROR_METHOD_NOT_FOUND, legacy "Not found"
    + QueryLimitExceeded        503 QUERY_LIMIT_EXCEEDED; Retriable
    + OperationTimeLimit        429 OPERATION_TIME_LIMIT; Retriable; .reset_at
    + ServerError               5xx, OVERLOAD_LIMIT; Retriable
  x BatchError                  some batch commands failed; .errors .results
  x SyncError                   a sync run failed as a whole
    + ConnectorError            a connector's system or library failed
    + RecordError               one record failed mapping or validation; the run goes on
  x RobotError                  a robot handler failed (its text goes back to the business process)
  x JobError                    a job could not run

Every exception pickles (jobs cross process boundaries) and never carries secrets in its text.
"""

from __future__ import annotations

from typing import Any


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


class TransportError(B24Error, Retriable):
    """The network failed or timed out before an answer arrived."""


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

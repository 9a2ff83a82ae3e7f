"""Pure error mapping: a portal's error answer (status, body) to a typed :class:`ApiError`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from b24kit.errors import ApiError, OperationTimeLimit, QueryLimitExceeded, ServerError

_RESET_AT = re.compile(r"reset at (\d{9,})", re.IGNORECASE)
# Statuses at which the portal refused the call before running it.
_REFUSED_CODES = frozenset({"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "OVERLOAD_LIMIT"})


def api_error(status: int | None, body: Any, method: str | None) -> ApiError:
    """The typed error for an answer; ``body`` is the decoded JSON (or raw text when not JSON)."""
    if isinstance(body, Mapping):
        code = str(body.get("error") or "")
        description = str(body.get("error_description") or "")
    else:
        code = ""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        description = _short(text) or (f"HTTP {status}" if status else "empty answer")
    cls = ApiError.class_for(code, status, description)
    kwargs: dict[str, Any] = {"code": code, "method": method, "status": status}
    if issubclass(cls, ServerError):
        kwargs["maybe_applied"] = code.upper() not in _REFUSED_CODES
    if issubclass(cls, OperationTimeLimit):
        found = _RESET_AT.search(description)
        kwargs["reset_at"] = float(found.group(1)) if found else None
    return cls(description, **kwargs)


def refused(exc: ApiError) -> bool:
    """True when the portal refused the call before running it, so repeating it is safe."""
    return isinstance(exc, QueryLimitExceeded | OperationTimeLimit) or exc.code.upper() in _REFUSED_CODES


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:200] + ("..." if len(flat) > 200 else "")

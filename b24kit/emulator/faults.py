"""Fault injection (``POST /_emulator/faults``): make the next calls of a method fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import RestError

_KNOWN: dict[str, tuple[int, str, str]] = {
    "QUERY_LIMIT_EXCEEDED": (503, "QUERY_LIMIT_EXCEEDED", "Too many requests"),
    "OPERATION_TIME_LIMIT": (429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."),
    "INTERNAL_SERVER_ERROR": (500, "INTERNAL_SERVER_ERROR", "Internal server error"),
    "500": (500, "INTERNAL_SERVER_ERROR", "Internal server error"),
    "502": (502, "ERROR_UNEXPECTED_ANSWER", "Server returned an unexpected response"),
    "OVERLOAD_LIMIT": (503, "OVERLOAD_LIMIT", "REST API is blocked due to overload"),
    "expired_token": (401, "expired_token", "The access token provided has expired."),
    "ACCESS_DENIED": (403, "ACCESS_DENIED", "Access denied!"),
}


@dataclass
class Fault:
    method: str  # lower-case method name, or "*"
    error: str  # a code from _KNOWN, "timeout", or any other code (answered with ``status``)
    times: int
    status: int = 400
    delay: float = 30.0
    description: str | None = None

    def to_error(self) -> RestError:
        status, code, text = _KNOWN.get(self.error, (self.status, self.error, "Injected fault"))
        return RestError(status, code, self.description or text)


class Faults:
    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.error != "timeout" and fault.error not in _KNOWN and not fault.error:
            raise ValueError("error must name a code")
        self.pending.append(fault)

    def take(self, method: str) -> Fault | None:
        """The next error fault for ``method`` (timeouts are taken by the HTTP layer)."""
        return self._take(lambda f: f.error != "timeout" and f.method in (method, "*"))

    def take_timeout(self, methods: list[str]) -> Fault | None:
        """A pending timeout for any of ``methods`` (a batch passes its commands' methods)."""
        return self._take(lambda f: f.error == "timeout" and (f.method == "*" or f.method in methods))

    def _take(self, wanted: Callable[[Fault], bool]) -> Fault | None:
        for fault in self.pending:
            if wanted(fault):
                fault.times -= 1
                if fault.times <= 0:
                    self.pending.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.pending.clear()

    def describe(self) -> list[dict[str, object]]:
        return [{"method": f.method, "error": f.error, "times": f.times} for f in self.pending]

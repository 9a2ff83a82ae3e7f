"""Errors the emulated portal answers with: an HTTP status, a Bitrix error code and a text."""

from __future__ import annotations

from typing import Any


class RestError(Exception):
    """A REST error as the portal sends it: ``{"error": code, "error_description": text}``."""

    def __init__(self, status: int, code: str, description: str, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "error_description": self.description, **self.extra}


def legacy_not_found() -> RestError:
    """What the legacy CRM methods answer for a missing record: an empty code and "Not found"."""
    return RestError(400, "", "Not found")


def legacy_error(description: str) -> RestError:
    """A legacy CRM validation error: HTTP 400 with an empty error code."""
    return RestError(400, "", description)


def method_not_found() -> RestError:
    return RestError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")


def access_denied(description: str = "Access denied!", status: int = 403) -> RestError:
    return RestError(status, "ACCESS_DENIED", description)


def app_context_required() -> RestError:
    return RestError(403, "ACCESS_DENIED", "Access denied! Application context required")


def invalid_arg(description: str) -> RestError:
    return RestError(400, "INVALID_ARG_VALUE", description)


def error_core(description: str) -> RestError:
    return RestError(400, "ERROR_CORE", description)


def argument_error(description: str) -> RestError:
    return RestError(400, "ERROR_ARGUMENT", description)

"""Jira's error answer: ``{"errorMessages": [...], "errors": {field: message}}`` with a status."""

from __future__ import annotations

from typing import Any


class JiraError(Exception):
    """An error answered to the client in Jira's shape."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None):
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        super().__init__(f"{status}: {self.messages or self.errors}")

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}


def bad_request(message: str) -> JiraError:
    return JiraError(400, [message])


def field_errors(errors: dict[str, str]) -> JiraError:
    return JiraError(400, errors=errors)


def not_found(message: str) -> JiraError:
    return JiraError(404, [message])


def cannot_set(field: str) -> str:
    """The message Jira gives for a field that is unknown or not on the screen."""
    return f"Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."

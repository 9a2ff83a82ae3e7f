"""REST calls through the emulator's incoming webhook, for the CRM tests."""

from __future__ import annotations

from typing import Any

from b24kit.testing.emulator import RunningEmulator


def call(emu: RunningEmulator, method: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
    """The HTTP status and the decoded body of one call."""
    response = emu.http.post(f"{emu.webhook_url}{method}", json=params or {})
    return response.status_code, response.json()


def ok(emu: RunningEmulator, method: str, params: dict[str, Any] | None = None) -> Any:
    """The ``result`` of a call that must answer 200."""
    status, body = call(emu, method, params)
    assert status == 200, body
    return body["result"]


def statuses(emu: RunningEmulator, entity_id: str) -> list[dict[str, Any]]:
    """``crm.status.list`` of one reference list (``DEAL_STAGE``, ``SOURCE``...)."""
    return list(ok(emu, "crm.status.list", {"filter": {"ENTITY_ID": entity_id}}))

"""``b24kit events bind``: bind the events the jobs watch, online (to ``/events/{portal}``) or
offline (for :mod:`.offline`), idempotently: bindings already there are left alone, so a second
run makes no write call. ``prune`` unbinds our handler's events no job watches any more.

Offline bindings carry an ``auth_connector`` (``runner.portals.NAME.auth_connector``, default
``b24kit``); the runner's calls carry the same key, so the portal does not queue the runner's own
writes back. An offline binding of a watched event under another key (one made before the key,
say) is another queue the runner does not read: ``prune`` removes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from b24kit.client import AsyncClient
from b24kit.errors import ApiError

Mode = Literal["online", "offline"]
# Always wanted online: the uninstall (forget the token) and, for offline portals, the wake-up call.
_ALWAYS = ("ONAPPUNINSTALL",)


@dataclass(frozen=True)
class Bound:
    event: str
    mode: Mode
    action: Literal["bound", "present", "unbound"]


def _offline(row: Mapping[str, Any]) -> bool:
    return str(row.get("offline", "0")) in ("1", "true", "True")


def _connector(row: Mapping[str, Any]) -> str:
    """The ``auth_connector`` of an offline binding (``event.get`` names it ``connector_id``)."""
    return str(row.get("connector_id") or row.get("auth_connector") or "")


def _present(existing: Sequence[Any], event: str, mode: Mode, handler: str, connector: str) -> bool:
    for row in existing:
        if not isinstance(row, dict) or str(row.get("event", "")).upper() != event:
            continue
        if mode == "offline" and _offline(row) and _connector(row) == connector:
            return True
        if mode == "online" and not _offline(row) and str(row.get("handler", "")) == handler:
            return True
    return False


async def bind_events(
    client: AsyncClient,
    events: Sequence[str],
    *,
    handler: str,
    mode: Mode,
    prune: bool = False,
    connector: str | None = None,
) -> list[Bound]:
    """Make the portal send ``events`` to ``handler``, or queue them offline under the
    ``auth_connector`` ``connector`` (calls that carry it are not queued back)."""
    existing = await client.call("event.get") or []
    wanted: list[tuple[str, Mode]] = [(e.upper(), mode) for e in events]
    wanted += [(e, "online") for e in _ALWAYS]
    if mode == "offline":
        wanted.append(("ONOFFLINEEVENT", "online"))
    done: list[Bound] = []
    for event, how in dict.fromkeys(wanted):
        if _present(existing, event, how, handler, connector or ""):
            done.append(Bound(event, how, "present"))
            continue
        params: dict[str, Any] = {"event": event}
        if how == "offline":
            params["event_type"] = "offline"
            if connector:
                params["auth_connector"] = connector
        else:
            params["handler"] = handler
        if event == "ONOFFLINEEVENT":
            params["options"] = {"minTimeout": 1}
        try:
            await client.call("event.bind", params)
        except ApiError as exc:
            if "already binded" not in exc.description.lower():
                raise
            done.append(Bound(event, how, "present"))
            continue
        done.append(Bound(event, how, "bound"))
    if prune:
        keep = {(e, how) for e, how in wanted}
        done += await _prune(client, existing, keep, handler, connector or "")
    return done


async def _prune(
    client: AsyncClient, existing: Sequence[Any], keep: set[tuple[str, Mode]], handler: str, connector: str
) -> list[Bound]:
    """Unbind our handler's events not kept, and offline bindings not kept under ``connector``."""
    gone: list[Bound] = []
    for row in existing:
        if not isinstance(row, dict):
            continue
        event = str(row.get("event", "")).upper()
        if _offline(row):
            if (event, "offline") in keep and _connector(row) == connector:
                continue
            params = {"event": event, "event_type": "offline", "auth_connector": _connector(row)}
            await client.call("event.unbind", params)
            gone.append(Bound(event, "offline", "unbound"))
        elif (event, "online") in keep:
            continue
        elif str(row.get("handler", "")) == handler:
            await client.call("event.unbind", {"event": event, "handler": handler})
            gone.append(Bound(event, "online", "unbound"))
    return gone

"""``b24kit events bind``: bind the events the jobs watch, online (to ``/events/{portal}``) or
offline (for :mod:`.offline`), idempotently: bindings already there are left alone, so a second
run makes no write call. ``prune`` unbinds our handler's events no job watches any more."""

from __future__ import annotations

from collections.abc import Sequence
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


def _present(existing: Sequence[Any], event: str, mode: Mode, handler: str) -> bool:
    for row in existing:
        if not isinstance(row, dict) or str(row.get("event", "")).upper() != event:
            continue
        offline = str(row.get("offline", "0")) in ("1", "true", "True")
        if mode == "offline" and offline:
            return True
        if mode == "online" and not offline and str(row.get("handler", "")) == handler:
            return True
    return False


async def bind_events(
    client: AsyncClient, events: Sequence[str], *, handler: str, mode: Mode, prune: bool = False
) -> list[Bound]:
    """Make the portal send ``events`` to ``handler`` (or queue them offline)."""
    existing = await client.call("event.get") or []
    wanted: list[tuple[str, Mode]] = [(e.upper(), mode) for e in events]
    wanted += [(e, "online") for e in _ALWAYS]
    if mode == "offline":
        wanted.append(("ONOFFLINEEVENT", "online"))
    done: list[Bound] = []
    for event, how in dict.fromkeys(wanted):
        if _present(existing, event, how, handler):
            done.append(Bound(event, how, "present"))
            continue
        params: dict[str, Any] = {"event": event}
        if how == "offline":
            params["event_type"] = "offline"
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
        done += await _prune(client, existing, {e for e, _ in wanted}, handler)
    return done


async def _prune(client: AsyncClient, existing: Sequence[Any], keep: set[str], handler: str) -> list[Bound]:
    gone: list[Bound] = []
    for row in existing:
        if not isinstance(row, dict):
            continue
        event = str(row.get("event", "")).upper()
        if event in keep:
            continue
        offline = str(row.get("offline", "0")) in ("1", "true", "True")
        if offline:
            await client.call("event.unbind", {"event": event, "event_type": "offline"})
            gone.append(Bound(event, "offline", "unbound"))
        elif str(row.get("handler", "")) == handler:
            await client.call("event.unbind", {"event": event, "handler": handler})
            gone.append(Bound(event, "online", "unbound"))
    return gone

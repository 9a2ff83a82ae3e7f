"""The reconciliation scan: records modified since the last scan (minus a lag) whose change no
processed event covered get a synthetic ``ONCRM*UPDATE`` event, so a missed event heals.

A record counts as covered when an event for it with a time at or after its ``DATE_MODIFY`` was
processed (the runner remembers, per record, the newest event time it finished). The scan
reads only ``ID`` and the modification time, 2,500 records per request (``iter_list``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from b24kit.automation import PortalEvent

from .keys import ENTITY_NAMES, digest, event_inbound
from .model import Inbound
from .services import Services

_LEGACY = {
    "1": ("crm.lead.list", "LEAD"),
    "2": ("crm.deal.list", "DEAL"),
    "3": ("crm.contact.list", "CONTACT"),
    "4": ("crm.company.list", "COMPANY"),
}
_WATCHED = re.compile(r"^ONCRM(LEAD|DEAL|CONTACT|COMPANY)(ADD|UPDATE)$|^ONCRMDYNAMICITEM(ADD|UPDATE)_(\d+)$")


def entities(portal: str, services: Services) -> list[str]:
    """Entity type ids to scan: the configured ones, else those the portal's jobs watch."""
    configured = services.portal_settings(portal).reconcile.entities
    if configured:
        return [str(ENTITY_NAMES.get(e, e)) for e in configured]
    found: dict[str, None] = {}
    for name in services.jobs.events(portal):
        match = _WATCHED.match(name)
        if match is None:
            continue
        legacy, _, _, dynamic = match.groups()
        found[str(ENTITY_NAMES[legacy.lower()]) if legacy else dynamic] = None
    return list(found)


async def reconcile(portal: str, services: Services) -> dict[str, int]:
    """Scan every entity; queue an event for each uncovered change. Returns counts per entity."""
    counts: dict[str, int] = {}
    for entity in entities(portal, services):
        counts[entity] = await _scan(portal, entity, services)
    return counts


async def _scan(portal: str, entity: str, services: Services) -> int:
    queue, store = services.queue, services.queue.store
    lag = services.portal_settings(portal).reconcile.lag_seconds
    cursor_key = f"reconcile:{portal}:{entity}"
    cursor = await queue.run(store.get, cursor_key)
    since = (datetime.fromisoformat(cursor) if cursor else datetime.now(UTC)) - timedelta(seconds=lag)
    method, name, params, id_field, time_field = _query(entity, since)
    if not services.jobs.for_event(portal, name):
        return 0
    rows: list[tuple[int, datetime]] = []
    async for row in services.clients.get(portal).iter_list(method, params):
        modified = _when(row.get(time_field))
        if modified is not None and str(row.get(id_field, "")).isdecimal():
            rows.append((int(row[id_field]), modified))
    keys = [f"{portal}:{entity}:{ident}" for ident, _ in rows]
    seen = await queue.run(store.seen_times, portal, keys) if keys else {}
    items: list[Inbound] = []
    for (ident, modified), key in zip(rows, keys, strict=True):
        if seen.get(key, 0.0) >= modified.timestamp():
            continue
        fields: dict[str, Any] = {"ID": str(ident)}
        if not entity.isdecimal() or int(entity) > 4:
            fields["ENTITY_TYPE_ID"] = entity
        event = PortalEvent(name, {"FIELDS": fields}, ts=int(modified.timestamp()))
        dedupe = digest(portal, "reconcile", key, modified.isoformat())
        delay = services.settings.runner.debounce_seconds
        items.append(event_inbound(portal, event, source="reconcile", delay=delay, dedupe=dedupe))
    if items:
        await queue.submit_many(items)
    newest = max((m for _, m in rows), default=None)
    if newest is not None and (cursor is None or newest > datetime.fromisoformat(cursor)):
        await queue.run(store.set, cursor_key, newest.isoformat())
    elif cursor is None:
        await queue.run(store.set, cursor_key, datetime.now(UTC).isoformat())
    return len(items)


def _query(entity: str, since: datetime) -> tuple[str, str, dict[str, Any], str, str]:
    stamp = since.astimezone(UTC).isoformat(timespec="seconds")
    if entity in _LEGACY:
        method, upper = _LEGACY[entity]
        params: dict[str, Any] = {"filter": {">=DATE_MODIFY": stamp}, "select": ["ID", "DATE_MODIFY"]}
        return method, f"ONCRM{upper}UPDATE", params, "ID", "DATE_MODIFY"
    dynamic: dict[str, Any] = {
        "entityTypeId": int(entity),
        "filter": {">=updatedTime": stamp},
        "select": ["id", "updatedTime"],
    }
    return "crm.item.list", f"ONCRMDYNAMICITEMUPDATE_{entity}", dynamic, "id", "updatedTime"


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

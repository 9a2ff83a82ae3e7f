"""What identifies an incoming event or robot call: its record, its merge key, its dedupe key.

A record key is ``{portal}:{entityTypeId}:{id}`` for CRM records (deal 42: ``prod:2:42``; a
robot on ``DEAL_42`` gets the same key, so an event and a robot on one deal never run at once)
and ``{portal}:task:{id}`` for tasks.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from b24kit.automation import PortalEvent, RobotCall
from b24kit.robots.call import public_auth, to_payload

from .model import Inbound

ENTITY_TYPE_IDS = {
    "LEAD": 1,
    "DEAL": 2,
    "CONTACT": 3,
    "COMPANY": 4,
    "INVOICE": 5,
    "QUOTE": 7,
    "SMART_INVOICE": 31,
}
ENTITY_NAMES = {"lead": 1, "deal": 2, "contact": 3, "company": 4, "quote": 7, "smart_invoice": 31}
_CRM_EVENT = re.compile(
    r"^ONCRM(LEAD|DEAL|CONTACT|COMPANY|QUOTE|INVOICE|DYNAMICITEM)(ADD|UPDATE|DELETE)(?:_(\d+))?$"
)


def digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def event_record(name: str, data: Any) -> tuple[str, int] | None:
    """(entity, id) of an event's record: ``("2", 42)`` for a deal, ``("task", 7)`` for a task."""
    if not isinstance(data, Mapping):
        return None
    fields = data.get("FIELDS")
    if name.startswith("ONTASK") and not name.startswith("ONTASKCOMMENT"):
        fields = data.get("FIELDS_AFTER") if isinstance(data.get("FIELDS_AFTER"), Mapping) else fields
        ident = _int(fields.get("ID") if isinstance(fields, Mapping) else None)
        return ("task", ident) if ident else None
    if not isinstance(fields, Mapping):
        return None
    ident = _int(fields.get("ID"))
    if not ident:
        return None
    if name == "ONCRMDEALMOVETOCATEGORY":
        return ("2", ident)
    match = _CRM_EVENT.match(name)
    if match is None:
        return None
    entity, _, suffix = match.groups()
    if entity == "DYNAMICITEM":
        type_id = _int(suffix) or _int(fields.get("ENTITY_TYPE_ID"))
        return (str(type_id), ident) if type_id else None
    return (str(ENTITY_TYPE_IDS[entity]), ident)


def robot_record(call: RobotCall) -> tuple[str, int] | None:
    type_id, ident = call.entity_type_id, call.entity_id
    return (str(type_id), ident) if type_id and ident else None


def record_key(portal: str, record: tuple[str, int] | None) -> str | None:
    return None if record is None else f"{portal}:{record[0]}:{record[1]}"


def _int(value: Any) -> int | None:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if text.isdecimal() and int(text) > 0 else None


def event_inbound(
    portal: str, event: PortalEvent, *, source: str, delay: float, dedupe: str | None = None
) -> Inbound:
    """An event as a task, merged with the task queued for its record and name.

    CRM events carry only the record's ID and a time in seconds, so two changes of one deal in
    the same second arrive as identical bodies: an identical body is therefore not dropped but
    merged into the queued task, or, once that task has started (it may have read the record
    before the second change), queued again; handlers converge, so a repeat has no effect.
    Events without a record are dropped when the same body comes again within the dedupe
    window. ``dedupe`` (reconciliation) gives an explicit key instead.
    """
    record = event_record(event.name, event.data)
    key = record_key(portal, record)
    payload = {
        "event": event.name,
        "data": event.data,
        "ts": event.ts,
        "handler_id": event.handler_id,
        "auth": public_auth(event.auth),
        "source": source,
    }
    return Inbound(
        portal=portal,
        kind="event",
        name=event.name,
        payload=payload,
        record_key=key,
        merge_key=None if key is None else f"{key}|{event.name}",
        dedupe_key=dedupe
        or (digest(portal, event.name, event.handler_id, event.data, event.ts) if key is None else None),
        delay=delay if key is not None else 0.0,
    )


def robot_inbound(portal: str, call: RobotCall) -> Inbound:
    """A robot call as a task: one per ``event_token``, never merged."""
    return Inbound(
        portal=portal,
        kind="robot",
        name=call.code,
        payload=to_payload(call),
        record_key=record_key(portal, robot_record(call)),
        dedupe_key=digest(portal, "robot", call.event_token),
    )


def event_from_payload(payload: Mapping[str, Any]) -> PortalEvent:
    data = payload.get("data")
    ts = payload.get("ts")
    return PortalEvent(
        name=str(payload.get("event") or ""),
        data=dict(data) if isinstance(data, Mapping) else {},
        ts=int(ts) if isinstance(ts, int | str) and str(ts).isdecimal() else 0,
        auth=dict(payload.get("auth") or {}),
        handler_id=payload.get("handler_id"),
    )


def event_from_body(body: Mapping[str, Any]) -> PortalEvent:
    """A portal event from its parsed body (``event``, ``data``, ``ts``, ``auth``, ``event_handler_id``)."""
    data = body.get("data")
    ts = body.get("ts")
    handler = body.get("event_handler_id")
    auth = body.get("auth")
    return PortalEvent(
        name=str(body.get("event") or "").upper(),
        data=dict(data) if isinstance(data, Mapping) else {},
        ts=int(ts) if isinstance(ts, str | int) and str(ts).isdecimal() else 0,
        auth=public_auth(auth),
        handler_id=str(handler) if isinstance(handler, str | int) else None,
    )

"""Event delivery: bound handlers get form POSTs, offline queues keep the latest state per object.

``emit`` is called by the write paths (CRM, tasks, users). Online handlers are bound by
applications with ``event.bind`` (payload: ``event``, ``event_handler_id``, ``data``, ``ts``,
``auth[...]`` with the app's ``application_token``), or configured as outgoing webhooks through
the admin API (``auth`` without tokens). Offline bindings queue one row per object and event
(docs: "1000 updates of one deal leave one record"); a change made by a call carrying the same
``auth_connector`` is not queued for that binding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import oauth
from .portal import Delivery

if TYPE_CHECKING:
    from .crm.entities import EntityType
    from .portal import Portal
    from .registry import Ctx

CRM_EVENTS = [
    f"ONCRM{entity}{action}"
    for entity in ("LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE", "INVOICE", "DYNAMICITEM")
    for action in ("ADD", "UPDATE", "DELETE")
]
KNOWN_EVENTS = {
    *CRM_EVENTS,
    "ONCRMDEALMOVETOCATEGORY",
    "ONCRMTIMELINECOMMENTADD", "ONCRMTIMELINECOMMENTUPDATE", "ONCRMTIMELINECOMMENTDELETE",
    "ONCRMTYPEADD", "ONCRMTYPEUPDATE", "ONCRMTYPEDELETE",
    "ONTASKADD", "ONTASKUPDATE", "ONTASKDELETE",
    "ONTASKCOMMENTADD", "ONTASKCOMMENTUPDATE", "ONTASKCOMMENTDELETE",
    "ONUSERADD",
    "ONAPPINSTALL", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONAPPPAYMENT", "ONAPPTEST", "ONAPPMETHODCONFIRM",
    "ONOFFLINEEVENT",
}


def is_known(name: str) -> bool:
    if name in KNOWN_EVENTS:
        return True
    head, _, tail = name.rpartition("_")
    return head in ("ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMDELETE") and tail.isdigit()


def emit_crm(ctx: Ctx, entity: EntityType, action: str, row_id: int) -> None:
    """``ONCRMDEALADD`` and friends; smart invoices and SPAs fire ``ONCRMDYNAMICITEM*``."""
    fields: dict[str, Any] = {"ID": row_id}
    if entity.event == "ONCRMDYNAMICITEM":
        fields["ENTITY_TYPE_ID"] = entity.entity_type_id
        emit(ctx, f"ONCRMDYNAMICITEM{action}_{entity.entity_type_id}", {"FIELDS": fields},
             object_key=f"{entity.name}_{row_id}")
    emit(ctx, f"{entity.event}{action}", {"FIELDS": fields}, object_key=f"{entity.name}_{row_id}")


def emit(ctx: Ctx, name: str, data: Any, *, object_key: str) -> None:
    portal = ctx.portal
    ts = str(int(portal.clock.time()))
    for binding_id, binding in list(portal.table("event_bindings").rows.items()):
        if binding["event"] != name:
            continue
        if binding["offline"]:
            if binding.get("auth_connector") and binding["auth_connector"] == ctx.caller.auth_connector:
                continue
            _queue_offline(portal, binding, name, data, object_key)
            continue
        user_id = int(binding.get("auth_type") or 0) or ctx.caller.user_id
        body = {
            "event": name,
            "event_handler_id": str(binding_id),
            "data": data,
            "ts": ts,
            "auth": oauth.auth_block(portal, int(binding["app_id"]), user_id),
        }
        portal.deliver(Delivery(binding["handler"], body, "event", {"event": name}))
    for hook in portal.table("outgoing_webhooks"):
        if name in hook["events"]:
            body = {
                "event": name,
                "event_handler_id": str(hook["ID"]),
                "data": data,
                "ts": ts,
                "auth": {
                    "domain": portal.domain,
                    "client_endpoint": f"{portal.base_url}/rest/",
                    "server_endpoint": f"{portal.base_url}/rest/",
                    "member_id": portal.member_id,
                    "application_token": hook["application_token"],
                },
            }
            portal.deliver(Delivery(hook["handler"], body, "event", {"event": name}))


def _queue_offline(
    portal: Portal, binding: dict[str, Any], name: str, data: Any, object_key: str
) -> None:
    table = portal.table("offline_events")
    app_id = int(binding["app_id"])
    message_id = f"{name}:{object_key}"
    key = f"{app_id}|{message_id}"
    found = table.lookup("queue_key", key)
    now = portal.clock.iso()
    if found is not None and not found[1]["PROCESS_ID"]:
        row_id, row = found
        row.update(TIMESTAMP_X=now, EVENT_DATA=data)
        table.save(row_id, row)
        return
    row = {
        "queue_key": key,
        "app_id": app_id,
        "TIMESTAMP_X": now,
        "EVENT_NAME": name,
        "EVENT_DATA": data,
        "EVENT_ADDITIONAL": {"user_id": None},
        "MESSAGE_ID": message_id,
        "PROCESS_ID": "",
        "ERROR": 0,
        "CONNECTOR_ID": binding.get("auth_connector") or "",
    }
    row_id = table.insert(row)
    row["ID"] = row_id
    table.save(row_id, row)
    _notify_offline(portal, app_id)


def _notify_offline(portal: Portal, app_id: int) -> None:
    """ONOFFLINEEVENT to apps that asked for it, at most once per ``minTimeout`` seconds."""
    now = portal.clock.time()
    for binding_id, binding in list(portal.table("event_bindings").rows.items()):
        if binding["event"] != "ONOFFLINEEVENT" or int(binding["app_id"]) != app_id:
            continue
        timeout = float((binding.get("options") or {}).get("minTimeout", 1) or 1)
        if now - float(binding.get("last_sent") or 0) < timeout:
            continue
        binding["last_sent"] = now
        portal.table("event_bindings").save(binding_id, binding)
        body = {
            "event": "ONOFFLINEEVENT",
            "event_handler_id": str(binding_id),
            "data": [],
            "ts": str(int(now)),
            "auth": oauth.auth_block(portal, app_id, 1, with_refresh=True),
        }
        portal.deliver(Delivery(binding["handler"], body, "event", {"event": "ONOFFLINEEVENT"}))

"""Event delivery: bound handlers get form POSTs, offline queues keep the latest state per object.

``emit`` is called by the write paths (CRM, tasks, users). Online handlers are bound by
applications with ``event.bind`` (payload: ``event``, ``event_handler_id``, ``data``, ``ts``,
``auth[...]`` with the app's ``application_token``), or configured as outgoing webhooks through
the admin API (``auth`` without tokens). Offline bindings queue one row per application, source
key and ``MESSAGE_ID`` (``md5(EVENT_NAME|json(EVENT_DATA))``, as the portal's
``EventOfflineTable`` computes it), so 1000 updates of one deal leave one row; a change made by a
call carrying the binding's ``auth_connector`` is not queued for it.

Binding rows (table ``event_bindings``): ``{"event", "handler", "app_id", "offline": bool,
"auth_type": int, "auth_connector", "options"}``. Queue rows (table ``offline_events``) keep the
portal's columns: ``ID, TIMESTAMP_X, EVENT_NAME, EVENT_DATA, EVENT_ADDITIONAL, MESSAGE_ID,
PROCESS_ID, ERROR, CONNECTOR_ID`` plus ``app_id``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import oauth
from .portal import Delivery

if TYPE_CHECKING:
    from .crm.entities import EntityType
    from .portal import Portal
    from .registry import Ctx

GLOBAL_SCOPE = "_global"
_ACTIONS = ("ADD", "UPDATE", "DELETE")
_UF = ("USERFIELDADD", "USERFIELDUPDATE", "USERFIELDDELETE", "USERFIELDSETENUMVALUES")


def _crm_events() -> list[str]:
    names = ["ONCRMINVOICEADD", "ONCRMINVOICEUPDATE", "ONCRMINVOICEDELETE", "ONCRMINVOICESETSTATUS"]
    for entity in ("LEAD", "DEAL", "COMPANY", "CONTACT", "QUOTE"):
        names += [f"ONCRM{entity}{action}" for action in _ACTIONS]
        if entity == "DEAL":
            names.append("ONCRMDEALMOVETOCATEGORY")
        names += [f"ONCRM{entity}{suffix}" for suffix in _UF]
    names += [f"ONCRMINVOICE{suffix}" for suffix in _UF]
    for thing in ("CURRENCY", "PRODUCT", "PRODUCTPROPERTY", "PRODUCTSECTION", "ACTIVITY", "REQUISITE"):
        names += [f"ONCRM{thing}{action}" for action in _ACTIONS]
    names += [f"ONCRMREQUISITE{suffix}" for suffix in _UF]
    names += [f"ONCRMBANKDETAIL{action}" for action in _ACTIONS]
    names += ["ONCRMADDRESSREGISTER", "ONCRMADDRESSUNREGISTER"]
    names += [f"ONCRMMEASURE{action}" for action in _ACTIONS]
    for recurring in ("DEAL", "INVOICE"):
        names += [f"ONCRM{recurring}RECURRING{action}" for action in (*_ACTIONS, "EXPOSE")]
    for thing in ("TIMELINECOMMENT", "DYNAMICITEM", "TYPE", "DOCUMENTGENERATORDOCUMENT"):
        names += [f"ONCRM{thing}{action}" for action in _ACTIONS]
    return names


# The ``events`` catalogue by scope, in the order the docs list it (``api-reference/events/events.md``).
EVENTS_BY_SCOPE: dict[str, list[str]] = {
    GLOBAL_SCOPE: [
        "ONAPPUNINSTALL",
        "ONAPPINSTALL",
        "ONAPPUPDATE",
        "ONAPPPAYMENT",
        "ONAPPTEST",
        "ONAPPMETHODCONFIRM",
        "ONOFFLINEEVENT",
    ],
    "user": ["ONUSERADD"],
    "crm": _crm_events(),
    "task": [f"ONTASK{action}" for action in _ACTIONS] + [f"ONTASKCOMMENT{action}" for action in _ACTIONS],
}
ONLINE_ONLY = frozenset({"ONOFFLINEEVENT"})  # the rest module marks it ``disableOffline``
SENDS_REFRESH_TOKEN = frozenset({"ONAPPINSTALL", "ONOFFLINEEVENT"})
PROCESS_LIFETIME = 2_952_000  # EventOfflineTable::PROCESS_ID_LIFETIME: reserved rows then expire


def catalogue(portal: Portal, scopes: list[str] | None = None) -> list[str]:
    """Event names of ``scopes`` (all when ``None``), with ``ONCRMDYNAMICITEM*_{id}`` per smart process."""
    names: list[str] = []
    for scope, events in EVENTS_BY_SCOPE.items():
        if scopes is not None and scope not in scopes:
            continue
        names += events
        if scope == "crm":
            for type_row in sorted(portal.table("crm_types"), key=lambda r: int(r["entityTypeId"])):
                names += [f"ONCRMDYNAMICITEM{action}_{type_row['entityTypeId']}" for action in _ACTIONS]
    return names


def scope_of(portal: Portal, name: str) -> str | None:
    for scope in EVENTS_BY_SCOPE:
        if name in catalogue(portal, [scope]):
            return scope
    return None


def emit_crm(ctx: Ctx, entity: EntityType, action: str, row_id: int) -> None:
    """``ONCRMDEALADD`` and friends; smart invoices and SPAs fire ``ONCRMDYNAMICITEM*`` (and ``_{id}``)."""
    fields: dict[str, Any] = {"ID": row_id}
    if entity.event == "ONCRMDYNAMICITEM":
        fields["ENTITY_TYPE_ID"] = entity.entity_type_id
        emit(
            ctx,
            f"ONCRMDYNAMICITEM{action}_{entity.entity_type_id}",
            {"FIELDS": fields},
            object_key=f"{entity.name}_{row_id}",
        )
    emit(ctx, f"{entity.event}{action}", {"FIELDS": fields}, object_key=f"{entity.name}_{row_id}")


def emit(ctx: Ctx, name: str, data: Any, *, object_key: str) -> None:
    """Deliver event ``name`` to online handlers and outgoing webhooks, and queue it offline.

    ``data`` is what the handler receives under ``data``; scalars are sent as the portal sends
    them, as strings. ``object_key`` names the changed object (kept on queue rows for debugging).
    """
    portal = ctx.portal
    data = stringify(data)
    ts = str(int(portal.clock.time()))
    for binding_id, binding in list(portal.table("event_bindings").rows.items()):
        if binding["event"] != name:
            continue
        if binding["offline"]:
            if binding.get("auth_connector") and binding["auth_connector"] == ctx.caller.auth_connector:
                continue
            queue_offline(ctx, binding, name, data, object_key)
            continue
        user_id = int(binding.get("auth_type") or 0) or ctx.caller.user_id
        body = {
            "event": name,
            "event_handler_id": str(binding_id),
            "data": data,
            "ts": ts,
            "auth": oauth.auth_block(
                portal, int(binding["app_id"]), user_id, with_refresh=name in SENDS_REFRESH_TOKEN
            ),
        }
        portal.deliver(Delivery(binding["handler"], body, "event", {"event": name}))
    for hook in portal.table("outgoing_webhooks"):
        if name in hook["events"]:
            portal.deliver(
                Delivery(
                    hook["handler"], _webhook_body(portal, hook, name, data, ts), "event", {"event": name}
                )
            )


def _webhook_body(portal: Portal, hook: dict[str, Any], name: str, data: Any, ts: str) -> dict[str, Any]:
    return {
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


def stringify(value: Any) -> Any:
    """Numbers as strings, as the portal reads them from its database (``"ID": "7405"``)."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def message_id(name: str, data: Any) -> str:
    """``md5(EVENT_NAME . '|' . Json::encode(EVENT_DATA))``: the queue's merge key."""
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return hashlib.md5(f"{name}|{encoded}".encode()).hexdigest()  # a merge key, not a secret


def pending_key(app_id: int, connector: str, msg_id: str, process_id: str) -> str:
    """The portal's unique key ``(MESSAGE_ID, APP_ID, CONNECTOR_ID, PROCESS_ID)`` as one string."""
    return f"{app_id}|{connector}|{msg_id}|{process_id}"


def queue_offline(ctx: Ctx, binding: dict[str, Any], name: str, data: Any, object_key: str) -> None:
    """Insert or merge a queue row: a repeat updates the unreserved row, a reserved one is left alone."""
    portal = ctx.portal
    table = portal.table("offline_events")
    app_id = int(binding["app_id"])
    connector = str(binding.get("auth_connector") or "")
    msg_id = message_id(name, data)
    now = portal.clock.time()
    additional = {"user_id": str(ctx.caller.user_id)}
    found = table.lookup("queue_key", pending_key(app_id, connector, msg_id, ""))
    if found is not None:
        row_id, row = found
        row.update(TIMESTAMP_X=portal.clock.iso(now), ts=now, EVENT_DATA=data, EVENT_ADDITIONAL=additional)
        table.save(row_id, row)
    else:
        row = {
            "queue_key": pending_key(app_id, connector, msg_id, ""),
            "app_id": app_id,
            "object_key": object_key,
            "TIMESTAMP_X": portal.clock.iso(now),
            "ts": now,
            "EVENT_NAME": name,
            "EVENT_DATA": data,
            "EVENT_ADDITIONAL": additional,
            "MESSAGE_ID": msg_id,
            "PROCESS_ID": "",
            "ERROR": 0,
            "CONNECTOR_ID": connector,
        }
        row_id = table.insert(row)
        row["ID"] = row_id
        table.save(row_id, row)
    notify_offline(ctx, app_id)


def notify_offline(ctx: Ctx, app_id: int) -> None:
    """ONOFFLINEEVENT to the app's handlers, at most once per ``options.minTimeout`` seconds.

    ``minTimeout`` 0 means one notification per REST call, however many rows it queued.
    """
    portal = ctx.portal
    now = portal.clock.time()
    request_no = portal.stats.get("requests", 0)
    bindings = portal.table("event_bindings")
    for binding_id, binding in list(bindings.rows.items()):
        if binding["event"] != "ONOFFLINEEVENT" or int(binding["app_id"]) != app_id or binding["offline"]:
            continue
        timeout = int((binding.get("options") or {}).get("minTimeout", 1))
        if timeout > 0 and now - float(binding.get("last_sent") or 0) < timeout:
            continue
        if timeout <= 0 and binding.get("last_request") == request_no:
            continue
        binding.update(last_sent=now, last_request=request_no)
        bindings.save(binding_id, binding)
        user_id = int(binding.get("auth_type") or 0) or ctx.caller.user_id
        body = {
            "event": "ONOFFLINEEVENT",
            "event_handler_id": str(binding_id),
            "data": [],
            "ts": str(int(now)),
            "auth": oauth.auth_block(portal, app_id, user_id, with_refresh=True),
        }
        portal.deliver(Delivery(binding["handler"], body, "event", {"event": "ONOFFLINEEVENT"}))


# -- the queue as event.offline.* sees it -----------------------------------------------------
Row = dict[str, Any]


def purge_expired(portal: Portal) -> None:
    """Reserved rows older than the process lifetime are dropped (the portal's cleanup agent)."""
    table = portal.table("offline_events")
    limit = portal.clock.time() - PROCESS_LIFETIME
    for row_id in [rid for rid, r in table.rows.items() if r["PROCESS_ID"] and r["ts"] < limit]:
        table.delete(row_id)


def queue_rows(portal: Portal, app_id: int, connector: str) -> list[Row]:
    return [
        r for r in portal.table("offline_events") if r["app_id"] == app_id and r["CONNECTOR_ID"] == connector
    ]


def reserve(portal: Portal, rows: list[Row], limit: int, sort: Callable[[list[Row]], list[Row]]) -> str:
    """Mark the first ``limit`` unreserved ``rows`` (in ``sort`` order) with a new process id."""
    process_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32))
    table = portal.table("offline_events")
    for row in sort([r for r in rows if r["PROCESS_ID"] == ""])[:limit]:
        _set_process(row, process_id)
        table.save(int(row["ID"]), row)
    return process_id


def _set_process(row: Row, process_id: str) -> None:
    row["PROCESS_ID"] = process_id
    row["queue_key"] = pending_key(int(row["app_id"]), row["CONNECTOR_ID"], row["MESSAGE_ID"], process_id)


def delete_rows(portal: Portal, rows: list[Row]) -> None:
    table = portal.table("offline_events")
    for row in rows:
        table.delete(int(row["ID"]))


def mark_error(portal: Portal, rows: list[Row], process_id: str, message_ids: set[str]) -> None:
    """``EventOfflineTable::markError``: the batch's rows become errors and leave the batch.

    Other not-yet-failed rows with the same ``MESSAGE_ID`` (a newer pending change, another
    batch's copy) are deleted, so one error row per message remains.
    """
    table = portal.table("offline_events")
    targets = [r for r in rows if r["MESSAGE_ID"] in message_ids]
    for row in targets:
        if row["ERROR"] == 0 and row["PROCESS_ID"] != process_id:
            table.delete(int(row["ID"]))
    for row in targets:
        if row["ERROR"] != 0 or row["PROCESS_ID"] != process_id:
            continue
        for old in targets:
            same = old is not row and old["MESSAGE_ID"] == row["MESSAGE_ID"]
            if same and old["ERROR"] == 1 and old["PROCESS_ID"] == "":
                table.delete(int(old["ID"]))
        row["ERROR"] = 1
        _set_process(row, "")
        table.save(int(row["ID"]), row)

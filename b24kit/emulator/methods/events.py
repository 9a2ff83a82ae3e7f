"""``event.bind``, ``event.unbind``, ``event.get``, ``events`` and the ``event.offline.*`` queue methods.

All of them need an application token: a webhook caller gets 403 ``WRONG_AUTH_TYPE``, as the
portal's rest module answers (``AuthTypeException``). Checks run in the portal's order, so the
first error a client sees is the one a real portal gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from b24kit.emulator import events
from b24kit.emulator.errors import RestError, access_denied, argument_error
from b24kit.emulator.query import php_int
from b24kit.emulator.registry import Ctx, Listing, Params, method

Row = dict[str, Any]
PAGE = 50
_OPERATIONS = ("", "=", ">", "<", ">=", "<=")
_GET_FIELDS = ("ID", "TIMESTAMP_X", "EVENT_NAME", "MESSAGE_ID")
_LIST_FIELDS = (*_GET_FIELDS, "PROCESS_ID", "ERROR")
_MESSAGE_IDS = "Value must be array of MESSAGE_ID values"
_REQUIRES_ADMIN = "requires administrator access rights"
_AUTH_TYPE_ADMIN = f"AUTH_TYPE {_REQUIRES_ADMIN}"
_KEY = re.compile(r"^([^a-zA-Z]*)(.*)$", re.S)


def require_app(ctx: Ctx) -> None:
    if not ctx.caller.is_app:
        raise RestError(403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method")


def check_handler(url: str) -> None:
    """``HandlerHelper::checkCallback``: a host with a dot in it, and http or https."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if "." not in host[1:]:
        raise RestError(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
    if parts.scheme not in ("http", "https"):
        raise RestError(400, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol")


def _event_type(p: Params) -> str:
    event_type = str(p.get("event_type") or "").lower() or "online"
    if event_type not in ("online", "offline"):
        raise argument_error("Value must be one of {online|offline}")
    return event_type


def _event_name(p: Params) -> str:
    name = str(p.get("event") or "").upper()
    if not name:
        raise argument_error("Argument 'EVENT' is null or empty")
    return name


def _app_scopes(ctx: Ctx) -> list[str]:
    app = ctx.portal.table("apps").get(ctx.caller.app_id or 0) or {}
    return [s for s in str(app.get("scope", "")).split(",") if s] + [events.GLOBAL_SCOPE]


@method("event.bind", scope="basic")
def event_bind(ctx: Ctx, p: Params) -> bool:
    require_app(ctx)
    admin = ctx.portal.is_admin(ctx.caller.user_id)
    user_id = php_int(p.get("auth_type") or 0)
    if user_id > 0 and not admin and user_id != ctx.caller.user_id:
        raise access_denied(f"Access denied! Event binding with {_AUTH_TYPE_ADMIN}")
    if user_id <= 0 and not admin:
        user_id = ctx.caller.user_id
    name = _event_name(p)
    offline = _event_type(p) == "offline"
    handler = str(p.get("handler") or "")
    if offline:
        if not admin:
            raise access_denied(f"Access denied! Offline events binding {_REQUIRES_ADMIN}")
        handler, user_id = "", 0
    elif not handler:
        raise argument_error("Argument 'HANDLER' is null or empty")
    else:
        check_handler(handler)
    if events.scope_of(ctx.portal, name) not in _app_scopes(ctx):
        raise RestError(400, "ERROR_EVENT_NOT_FOUND", "Event not found")
    if offline and name in events.ONLINE_ONLY:
        raise argument_error("Offline event cannot be registered for this event.")
    connector = ctx.caller.auth_connector or ""
    row: Row = {
        "event": name,
        "handler": handler,
        "app_id": ctx.caller.app_id,
        "offline": offline,
        "auth_type": user_id,
        "auth_connector": connector,
        "options": _options(name, p.get("options")),
    }
    table = ctx.portal.table("event_bindings")
    key = ("event", "handler", "app_id", "auth_type", "auth_connector")
    if any(all(other.get(k) == row[k] for k in key) for other in table):
        raise RestError(400, "ERROR_CORE", "Unable to set event handler: Handler already binded")
    table.insert(row)
    return True


def _options(name: str, raw: Any) -> dict[str, Any]:
    """Only the options the event allows are kept (``ONOFFLINEEVENT``: ``minTimeout``, an int)."""
    if name != "ONOFFLINEEVENT" or not isinstance(raw, Mapping) or "minTimeout" not in raw:
        return {}
    return {"minTimeout": php_int(raw["minTimeout"])}


@method("event.unbind", scope="basic")
def event_unbind(ctx: Ctx, p: Params) -> dict[str, int]:
    require_app(ctx)
    admin = ctx.portal.is_admin(ctx.caller.user_id)
    name = _event_name(p)
    offline = _event_type(p) == "offline"
    handler = str(p.get("handler") or "")
    if offline:
        if not admin:
            raise access_denied(f"Access denied! Offline events unbinding {_REQUIRES_ADMIN}")
        handler = ""
    elif not handler:
        raise argument_error("Argument 'HANDLER' is null or empty")
    wanted: Row = {"app_id": ctx.caller.app_id, "event": name, "handler": handler}
    if offline:
        wanted["auth_connector"] = ctx.caller.auth_connector or ""
    elif p.get("auth_type") is not None:
        user_id = php_int(p.get("auth_type"))
        if not admin and user_id != ctx.caller.user_id:
            raise access_denied(f"Access denied! Event unbinding with {_AUTH_TYPE_ADMIN}")
        wanted["auth_type"] = user_id
    elif not admin:
        wanted["auth_type"] = ctx.caller.user_id
    table = ctx.portal.table("event_bindings")
    doomed = [rid for rid, row in table.rows.items() if all(row.get(k) == v for k, v in wanted.items())]
    for rid in doomed:
        table.delete(rid)
    return {"count": len(doomed)}


@method("event.get", scope="basic")
def event_get(ctx: Ctx, p: Params) -> list[Row]:
    require_app(ctx)
    admin = ctx.portal.is_admin(ctx.caller.user_id)
    result: list[Row] = []
    for row in ctx.portal.table("event_bindings"):
        if row["app_id"] != ctx.caller.app_id or (not admin and row["auth_type"] != ctx.caller.user_id):
            continue
        if row["handler"]:
            result.append(
                {
                    "event": row["event"],
                    "handler": row["handler"],
                    "auth_type": str(row["auth_type"]),
                    "offline": 0,
                }
            )
        else:
            connector = row.get("auth_connector") or ""
            result.append({"event": row["event"], "connector_id": connector, "offline": 1})
    return result


@method("events", scope="basic")
def events_list(ctx: Ctx, p: Params) -> list[str]:
    require_app(ctx)
    if p.get("scope") is not None:
        scope = str(p.get("scope"))
        return events.catalogue(ctx.portal, [scope] if scope else [events.GLOBAL_SCOPE])
    if p.get("full") not in (None, "", "0", 0, False, "false", "N"):
        return events.catalogue(ctx.portal)
    return events.catalogue(ctx.portal, _app_scopes(ctx))


# -- the offline queue ------------------------------------------------------------------------
def _offline_start(ctx: Ctx) -> tuple[int, str]:
    require_app(ctx)
    ctx.require_admin()
    events.purge_expired(ctx.portal)
    return int(ctx.caller.app_id or 0), ctx.caller.auth_connector or ""


def _event_out(row: Row, *, with_state: bool = False) -> Row:
    out = {
        "ID": str(row["ID"]),
        "TIMESTAMP_X": row["TIMESTAMP_X"],
        "EVENT_NAME": row["EVENT_NAME"],
        "EVENT_DATA": row["EVENT_DATA"],
        "EVENT_ADDITIONAL": row["EVENT_ADDITIONAL"],
        "MESSAGE_ID": row["MESSAGE_ID"],
    }
    if with_state:
        out.update(PROCESS_ID=row["PROCESS_ID"], ERROR=str(row["ERROR"]))
    return out


@method("event.offline.get", scope="basic")
def offline_get(ctx: Ctx, p: Params) -> Row:
    app_id, connector = _offline_start(ctx)
    clear = php_int(p.get("clear")) if p.get("clear") is not None else 1
    process_id = None if p.get("process_id") is None else str(p.get("process_id")).strip()
    limit = php_int(p.get("limit")) if p.get("limit") is not None else PAGE
    want_errors = php_int(p.get("error") or 0) == 1
    if limit <= 0:
        raise argument_error("Value must be positive integer")
    match = _filter(ctx, p.get("filter"), _GET_FIELDS, strict_values=True)
    sort = _order(p.get("order"), {"TIMESTAMP_X": "ASC"}, _GET_FIELDS)
    rows = [
        r
        for r in events.queue_rows(ctx.portal, app_id, connector)
        if r["ERROR"] == int(want_errors) and match(r)
    ]
    return_process = not clear or process_id is not None
    if process_id is None:
        process_id = events.reserve(ctx.portal, rows, limit, sort)
    batch = [r for r in rows if r["PROCESS_ID"] == process_id]
    result = [_event_out(r) for r in sort(batch)[:limit]]
    if clear and result:
        everything = events.queue_rows(ctx.portal, app_id, connector)
        events.delete_rows(ctx.portal, [r for r in everything if r["PROCESS_ID"] == process_id])
    return {"process_id": process_id if return_process else None, "events": result}


@method("event.offline.clear", scope="basic")
def offline_clear(ctx: Ctx, p: Params) -> bool:
    app_id, connector = _offline_start(ctx)
    process_id = _process_id(p)
    batch = [r for r in events.queue_rows(ctx.portal, app_id, connector) if r["PROCESS_ID"] == process_id]
    if p.get("message_id") is not None:
        wanted = _message_ids(p.get("message_id"))
        batch = [r for r in batch if r["MESSAGE_ID"] in wanted]
    elif p.get("id") is not None:
        ids = _list_of(p.get("id"), "Value must be array of integers")
        numbers = {php_int(i) for i in ids}
        if any(n <= 0 for n in numbers):
            raise argument_error("Value must be array of integers")
        batch = [r for r in batch if int(r["ID"]) in numbers]
    events.delete_rows(ctx.portal, batch)
    return True


@method("event.offline.error", scope="basic")
def offline_error(ctx: Ctx, p: Params) -> bool:
    app_id, connector = _offline_start(ctx)
    process_id = _process_id(p)
    wanted = {str(m).strip() for m in _list_of(p.get("message_id"), _MESSAGE_IDS)}
    if wanted:
        rows = events.queue_rows(ctx.portal, app_id, connector)
        events.mark_error(ctx.portal, rows, process_id, wanted)
    return True


@method("event.offline.list", scope="basic")
def offline_list(ctx: Ctx, p: Params) -> Listing:
    app_id, connector = _offline_start(ctx)
    match = _filter(ctx, p.get("filter"), _LIST_FIELDS, strict_values=False)
    sort = _order(p.get("order"), {"ID": "ASC"}, _LIST_FIELDS)
    rows = sort([r for r in events.queue_rows(ctx.portal, app_id, connector) if match(r)])
    start = max(php_int(p.get("start") or 0), 0)
    page = rows[start : start + PAGE]
    nxt = start + PAGE if start + PAGE < len(rows) else None
    return Listing([_event_out(r, with_state=True) for r in page], len(rows), nxt)


def _process_id(p: Params) -> str:
    if p.get("process_id") is None:
        raise argument_error("Argument 'PROCESS_ID' is null or empty")
    return str(p.get("process_id")).strip()


def _list_of(value: Any, message: str) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if not isinstance(value, list):
        raise argument_error(message)
    return value


def _message_ids(value: Any) -> set[str]:
    ids = {str(m).strip() for m in _list_of(value, _MESSAGE_IDS)}
    if any(len(m) != 32 for m in ids):
        raise argument_error(_MESSAGE_IDS)
    return ids


# -- filter and order, as ``IRestService::sanitizeFilter`` / ``sanitizeOrder`` check them -----
def _filter(ctx: Ctx, raw: Any, fields: tuple[str, ...], *, strict_values: bool) -> Callable[[Row], bool]:
    if raw is None or raw == "":
        return lambda row: True
    if isinstance(raw, list):
        raw = {str(i): v for i, v in enumerate(raw)}
    if not isinstance(raw, Mapping):
        raise argument_error("The filter is not an array.")
    conditions: list[tuple[str, str, Any]] = []
    for key, value in raw.items():
        key = str(key).upper()
        op, field = _KEY.match(key).groups()  # type: ignore[union-attr]
        if op not in _OPERATIONS:
            raise argument_error(f"Filter operation not allowed: {op}")
        if field not in fields:
            raise argument_error(f"Filter field not allowed: {field}")
        if strict_values and isinstance(value, Mapping | list):
            raise argument_error(f"The value of an argument '{key}' has an invalid type")
        conditions.append((op or "=", field, _coerce(ctx, field, value)))

    def match(row: Row) -> bool:
        return all(_compare(op, _coerce(ctx, field, row[field]), value) for op, field, value in conditions)

    return match


def _coerce(ctx: Ctx, field: str, value: Any) -> Any:
    if isinstance(value, list | Mapping):
        values = value.values() if isinstance(value, Mapping) else value
        return [_coerce(ctx, field, v) for v in values]
    if field in ("ID", "ERROR"):
        return php_int(value)
    if field == "TIMESTAMP_X":
        moment = ctx.portal.clock.parse(value)
        if moment is None:
            raise argument_error(f"Wrong TIMESTAMP_X value: {value}")
        return moment
    return "" if value is None else str(value)


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(right, list):
        return left in right if op == "=" else False
    if op == "=":
        return bool(left == right)
    if op == ">":
        return bool(left > right)
    if op == "<":
        return bool(left < right)
    if op == ">=":
        return bool(left >= right)
    return bool(left <= right)


def _order(raw: Any, default: dict[str, str], fields: tuple[str, ...]) -> Callable[[list[Row]], list[Row]]:
    if raw is None or raw == "" or raw == []:
        raw = default
    if not isinstance(raw, Mapping):
        raise argument_error("The order is not an array.")
    keys: list[tuple[str, bool]] = []
    for field, direction in raw.items():
        field = str(field).upper()
        if field not in fields:
            raise argument_error(f"Order field not allowed: {field}")
        if str(direction).upper() not in ("ASC", "DESC"):
            raise argument_error("Order direction should be one of {ASC|DESC}")
        keys.append((field, str(direction).upper() == "DESC"))

    def sort(rows: list[Row]) -> list[Row]:
        ordered = sorted(rows, key=lambda r: int(r["ID"]))
        for field, descending in reversed(keys):
            ordered.sort(key=_sort_key(field), reverse=descending)
        return ordered

    return sort


def _sort_key(field: str) -> Callable[[Row], Any]:
    def key(row: Row) -> Any:
        if field in ("ID", "ERROR"):
            return int(row[field])
        if field == "TIMESTAMP_X":
            return datetime.fromisoformat(row["TIMESTAMP_X"]).timestamp()
        return str(row[field])

    return key

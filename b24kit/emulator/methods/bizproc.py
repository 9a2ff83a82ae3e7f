"""``bizproc.robot.*``, ``bizproc.event.send`` and ``bizproc.activity.log``.

Robot methods need an application token and an administrator, and validate in the portal's
order (``Bitrix\\Bizproc\\RestService``): app context, admin, data, code, handler, name,
properties, return properties, document type, filter, then uniqueness per application.
``bizproc.event.send`` and ``bizproc.activity.log`` need only the event token: the portal checks
the token, not the caller, so an incoming webhook may answer a robot call too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from b24kit.emulator import bizproc
from b24kit.emulator.crm.entities import all_entities
from b24kit.emulator.errors import RestError, access_denied, app_context_required
from b24kit.emulator.methods.events import check_handler
from b24kit.emulator.query import php_int
from b24kit.emulator.registry import Ctx, Params, method

Row = dict[str, Any]
_CODE = re.compile(r"^[a-z0-9.\-_]+$", re.I)
_PROPERTY_KEY = re.compile(r"^[a-z][a-z0-9_]*$", re.I)
_QUOTE = ["crm", "Bitrix\\Crm\\Integration\\BizProc\\Document\\Quote", "QUOTE"]


def _invalid(text: str) -> RestError:
    return RestError(400, "ERROR_ACTIVITY_VALIDATION_FAILURE", text)


def _not_found() -> RestError:
    return RestError(400, "ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!")


def _start(ctx: Ctx) -> None:
    if not ctx.caller.is_app:
        raise app_context_required()
    if not ctx.portal.is_admin(ctx.caller.user_id):
        raise access_denied()


def _upper(data: Mapping[str, Any], *, keep_keys: bool = False) -> Row:
    """``prepareActivityData``: keys upper-cased, except property codes under (RETURN_)PROPERTIES."""
    out: Row = {}
    for key, value in data.items():
        name = str(key) if keep_keys else str(key).upper()
        if isinstance(value, Mapping):
            value = _upper(value, keep_keys=name in ("PROPERTIES", "RETURN_PROPERTIES", "OPTIONS"))
        elif isinstance(value, list) and name in ("PROPERTIES", "RETURN_PROPERTIES"):
            value = {str(i): v for i, v in enumerate(value)}
        out[name] = value
    return out


def _code(value: Any) -> str:
    if value in (None, "", 0, "0", [], {}):
        raise _invalid("Empty activity code!")
    if not isinstance(value, str) or not _CODE.match(value):
        raise _invalid("Wrong activity code!")
    return value


def _properties(value: Any) -> Row:
    if not isinstance(value, Mapping):
        raise _invalid("Wrong properties array!")
    for key, spec in value.items():
        if not _PROPERTY_KEY.match(str(key)):
            raise _invalid(f"Wrong property key ({key})!")
        name = spec.get("NAME") if isinstance(spec, Mapping) else None
        if name in (None, "", 0, "0", [], {}):
            raise _invalid(f"Empty property NAME ({key})!")
    return dict(value)


def _document_type(ctx: Ctx, value: Any) -> list[str]:
    parts = list(value.values()) if isinstance(value, Mapping) else value
    if not isinstance(parts, list) or len(parts) != 3 or not all(isinstance(p, str) and p for p in parts):
        raise _invalid("Wrong activity DOCUMENT_TYPE!")
    if parts[0] == "crm":
        known = [list(e.document_type) for e in all_entities(ctx.portal)] + [_QUOTE]
        if parts not in known:
            raise _invalid("Wrong activity DOCUMENT_TYPE!")
    return [str(p) for p in parts]


def _robots_of(ctx: Ctx) -> list[tuple[int, Row]]:
    return [
        (rid, r) for rid, r in ctx.portal.table("robots").rows.items() if r["app_id"] == ctx.caller.app_id
    ]


def _find(ctx: Ctx, code: str) -> tuple[int, Row]:
    found = next(((rid, r) for rid, r in _robots_of(ctx) if r["CODE"] == code), None)
    if found is None:
        raise _not_found()
    return found


@method("bizproc.robot.add", scope="bizproc")
def robot_add(ctx: Ctx, p: Params) -> bool:
    _start(ctx)
    data = _upper(p)
    if not data:
        raise _invalid("Empty data!")
    code = _code(data.get("CODE"))
    check_handler(str(data.get("HANDLER") or ""))
    if data.get("NAME") in (None, "", 0, "0", [], {}):
        raise _invalid("Empty activity NAME!")
    properties = _properties(data["PROPERTIES"]) if data.get("PROPERTIES") is not None else {}
    returns = _properties(data["RETURN_PROPERTIES"]) if data.get("RETURN_PROPERTIES") is not None else {}
    document_type = (
        _document_type(ctx, data["DOCUMENT_TYPE"]) if data.get("DOCUMENT_TYPE") is not None else None
    )
    if data.get("FILTER") is not None and not isinstance(data["FILTER"], Mapping | list):
        raise _invalid("Wrong activity FILTER!")
    if any(r["CODE"] == code for _, r in _robots_of(ctx)):
        raise RestError(400, "ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Robot already installed!")
    use_placement = "Y" if data.get("USE_PLACEMENT") == "Y" else "N"
    if use_placement == "Y":
        check_handler(str(data.get("PLACEMENT_HANDLER") or ""))
    row: Row = {
        "CODE": code,
        "HANDLER": str(data["HANDLER"]),
        "AUTH_USER_ID": php_int(data.get("AUTH_USER_ID") or 0),
        "USE_SUBSCRIPTION": str(data.get("USE_SUBSCRIPTION") or ""),
        "NAME": data["NAME"],
        "DESCRIPTION": data.get("DESCRIPTION") or "",
        "PROPERTIES": properties,
        "RETURN_PROPERTIES": returns,
        "DOCUMENT_TYPE": document_type,
        "FILTER": data.get("FILTER") or None,
        "USE_PLACEMENT": use_placement,
        "PLACEMENT_HANDLER": str(data.get("PLACEMENT_HANDLER") or "") if use_placement == "Y" else "",
        "app_id": ctx.caller.app_id,
    }
    ctx.portal.table("robots").insert(row)
    return True


@method("bizproc.robot.list", scope="bizproc")
def robot_list(ctx: Ctx, p: Params) -> list[str]:
    _start(ctx)
    return [r["CODE"] for _, r in _robots_of(ctx)]


@method("bizproc.robot.update", scope="bizproc")
def robot_update(ctx: Ctx, p: Params) -> bool:
    _start(ctx)
    data = _upper(p)
    row_id, row = _find(ctx, _code(data.get("CODE")))
    fields = data.get("FIELDS")
    if not isinstance(fields, Mapping) or not fields:
        raise _invalid("No fields to update")
    changes = _changes(ctx, _upper(fields))
    if not changes:
        raise _invalid("No fields to update")
    if fields.get("PLACEMENT_HANDLER") is not None:
        check_handler(str(fields["PLACEMENT_HANDLER"]))
        changes["PLACEMENT_HANDLER"] = str(fields["PLACEMENT_HANDLER"])
    if changes.get("USE_PLACEMENT") == "N":
        changes["PLACEMENT_HANDLER"] = ""
    row.update(changes)
    ctx.portal.table("robots").save(row_id, row)
    return True


def _changes(ctx: Ctx, fields: Row) -> Row:
    """The fields ``bizproc.robot.update`` takes, validated as the portal does."""
    changes: Row = {}
    if fields.get("HANDLER") is not None:
        check_handler(str(fields["HANDLER"]))
        changes["HANDLER"] = str(fields["HANDLER"])
    if fields.get("AUTH_USER_ID") is not None:
        changes["AUTH_USER_ID"] = php_int(fields["AUTH_USER_ID"])
    if fields.get("USE_SUBSCRIPTION") is not None:
        changes["USE_SUBSCRIPTION"] = str(fields["USE_SUBSCRIPTION"])
    if fields.get("USE_PLACEMENT") is not None:
        changes["USE_PLACEMENT"] = "Y" if fields["USE_PLACEMENT"] == "Y" else "N"
    if fields.get("NAME") not in (None, "", 0, "0", [], {}):
        changes["NAME"] = fields["NAME"]
    if fields.get("DESCRIPTION") is not None:
        changes["DESCRIPTION"] = fields["DESCRIPTION"]
    for key in ("PROPERTIES", "RETURN_PROPERTIES"):
        if fields.get(key) is not None:
            changes[key] = _properties(fields[key])
    if fields.get("DOCUMENT_TYPE") is not None:
        empty = fields["DOCUMENT_TYPE"] in ("", [], {})
        changes["DOCUMENT_TYPE"] = None if empty else _document_type(ctx, fields["DOCUMENT_TYPE"])
    if fields.get("FILTER") is not None:
        value = fields["FILTER"]
        if value not in ("", [], {}) and not isinstance(value, Mapping | list):
            raise _invalid("Wrong activity FILTER!")
        changes["FILTER"] = value or None
    return changes


@method("bizproc.robot.delete", scope="bizproc")
def robot_delete(ctx: Ctx, p: Params) -> bool:
    _start(ctx)
    row_id, _ = _find(ctx, _code(p.get("code")))
    ctx.portal.table("robots").delete(row_id)
    return True


@method("bizproc.event.send", scope="bizproc")
def event_send(ctx: Ctx, p: Params) -> bool:
    bizproc.complete(ctx.portal, p.get("event_token"), p.get("return_values"), p.get("log_message"))
    return True


@method("bizproc.activity.log", scope="bizproc")
def activity_log(ctx: Ctx, p: Params) -> bool:
    bizproc.log(ctx.portal, p.get("event_token"), p.get("log_message"))
    return True

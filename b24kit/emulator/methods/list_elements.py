"""``lists.element.*``: list elements with property values keyed by value-row id.

A stored element keeps each property as two parallel lists, ``PROPERTY_{id}`` (values, for
filters and sorting) and ``_ROWS_{id}`` (their value-row ids). ``lists.element.get`` shows a
property as ``{"3743": "1269", "3745": "1271"}`` and dates in the portal's locale format.
``lists.element.update`` replaces the element's fields: a property it does not mention is
emptied, as on a real portal (pass every value to keep it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from b24kit.emulator.errors import RestError
from b24kit.emulator.methods.list_fields import fields_of
from b24kit.emulator.methods.lists import find_list, missing, next_id
from b24kit.emulator.methods.locale import locale_date, locale_datetime
from b24kit.emulator.query import Condition, FieldRef, Query, compile_query, paginate, php_int
from b24kit.emulator.registry import Ctx, Listing, Params, method

_BASE_KINDS = {
    "ID": "int",
    "IBLOCK_ID": "int",
    "NAME": "str",
    "CODE": "str",
    "IBLOCK_SECTION_ID": "int",
    "CREATED_BY": "int",
    "MODIFIED_BY": "int",
    "DATE_CREATE": "datetime",
    "TIMESTAMP_X": "datetime",
    "SORT": "int",
    "ACTIVE_FROM": "datetime",
    "ACTIVE_TO": "datetime",
    "PREVIEW_TEXT": "str",
    "DETAIL_TEXT": "str",
    "BP_PUBLISHED": "flag",
    "PREVIEW_TEXT_TYPE": "str",
    "DETAIL_TEXT_TYPE": "str",
}
DEFAULT_SELECT = (
    "ID",
    "IBLOCK_ID",
    "NAME",
    "IBLOCK_SECTION_ID",
    "CREATED_BY",
    "BP_PUBLISHED",
    "CODE",
    "DATE_CREATE",
    "SORT",
)
_SYSTEM_INPUT = ("SORT", "ACTIVE_FROM", "ACTIVE_TO", "PREVIEW_TEXT", "DETAIL_TEXT")
_DATES = ("S:Date", "S:DateTime")
_EN_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y")


def _value_error(text: str) -> RestError:
    return RestError(400, "ERROR_ELEMENT_FIELD_VALUE", text)


def _kind(field: Mapping[str, Any]) -> str:
    kind = str(field["TYPE"])
    if kind in _DATES:
        return "datetime"
    if kind == "N":
        return "float"
    if kind in ("L", "E", "E:EList", "G", "S:employee", "N:Sequence", "F"):
        return "int"
    return "str"


def _properties(ctx: Ctx, list_id: int) -> dict[str, dict[str, Any]]:
    """Custom properties by ``PROPERTY_{id}`` and by ``PROPERTY_{CODE}``."""
    found: dict[str, dict[str, Any]] = {}
    for field in fields_of(ctx, list_id):
        if not field["SYSTEM"]:
            found[field["FIELD_ID"]] = field
            found[f"PROPERTY_{field['CODE']}"] = field
    return found


# -- values ---------------------------------------------------------------------------------


def _entries(field: Mapping[str, Any], raw: Any) -> list[tuple[str | None, Any]]:
    if (
        field["TYPE"] == "F"
        and isinstance(raw, list)
        and len(raw) == 2
        and all(isinstance(v, str) for v in raw)
    ):
        raw = [raw]  # one file given as [name, base64]
    entries: list[tuple[str | None, Any]]
    if isinstance(raw, Mapping):
        entries = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        entries = [(None, v) for v in raw]
    else:
        entries = [(None, raw)]
    result: list[tuple[str | None, Any]] = []
    for key, value in entries:
        if isinstance(value, Mapping) and "VALUE" in value:
            value = value["VALUE"]
        if value not in (None, "", []):
            result.append((key, value))
    return result if field["MULTIPLE"] == "Y" else result[:1]


def _parse_date(ctx: Ctx, value: Any) -> datetime | None:
    moment = ctx.portal.clock.parse(value) if not isinstance(value, dict | list) else None
    if moment is None and isinstance(value, str):
        for fmt in _EN_FORMATS:
            try:
                parsed = datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - the portal zone follows
            except ValueError:
                continue
            return parsed.replace(tzinfo=ctx.portal.clock.tz)
    return moment


def _store_file(ctx: Ctx, field: Mapping[str, Any], value: Any) -> str:
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdecimal()):
        raise _value_error("Writing file values by ID is not supported")
    name, content = (value[0], value[1]) if isinstance(value, list) and len(value) == 2 else ("file", value)
    try:
        data = base64.b64decode(str(content), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _value_error(f'The file of the "{field["NAME"]}" field is not valid base64') from exc
    return str(
        ctx.portal.table("files").insert({"NAME": str(name), "SIZE": len(data), "CONTENT": str(content)})
    )


def _convert(ctx: Ctx, field: Mapping[str, Any], value: Any) -> str:
    kind = field["TYPE"]
    bad = _value_error(f'Incorrect value of the "{field["NAME"]}" field')
    if kind == "F":
        return _store_file(ctx, field, value)
    if isinstance(value, dict | list):
        raise bad
    if kind in _DATES:
        moment = _parse_date(ctx, value)
        if moment is None:
            raise bad
        if kind == "S:Date":
            moment = moment.replace(hour=0, minute=0, second=0)
        return moment.replace(microsecond=0).isoformat()
    text = str(value).strip()
    if kind == "N":
        try:
            float(text)
        except ValueError:
            raise bad from None
        return text
    if kind == "L":
        if text not in field["LIST"]:
            raise bad
        return text
    if kind in ("E", "E:EList", "G", "S:employee") and not text.isdecimal():
        raise bad
    return text


def _set_property(ctx: Ctx, row: dict[str, Any], field: Mapping[str, Any], raw: Any) -> None:
    pid = field["PROPERTY_ID"]
    old_rows = [str(r) for r in row.get(f"_ROWS_{pid}", [])]
    values: list[str] = []
    rows: list[int] = []
    for key, value in _entries(field, raw):
        values.append(_convert(ctx, field, value))
        rows.append(int(key) if key in old_rows else next_id(ctx, "list_value"))
    row[f"PROPERTY_{pid}"] = values
    row[f"_ROWS_{pid}"] = rows


def _apply(
    ctx: Ctx, lst: Mapping[str, Any], row: dict[str, Any], fields: Mapping[str, Any], error: str
) -> None:
    """Write ``fields`` (NAME, system fields, every property) into ``row``."""
    name = fields.get("NAME")
    if name is None or isinstance(name, dict | list) or not str(name).strip():
        raise RestError(400, error, "Enter the element name.<br>")
    row["NAME"] = str(name)
    for key in _SYSTEM_INPUT:
        if key in fields:
            value = fields[key]
            if key == "SORT":
                row[key] = php_int(value)
            elif key in ("ACTIVE_FROM", "ACTIVE_TO"):
                row[key] = (
                    ctx.portal.clock.to_portal_iso(value) if not isinstance(value, dict | list) else None
                )
            else:
                row[key] = "" if value is None or isinstance(value, dict | list) else str(value)
    properties = _properties(ctx, int(lst["ID"]))
    given = {properties[k]["PROPERTY_ID"]: v for k, v in fields.items() if k in properties}
    for field in {f["PROPERTY_ID"]: f for f in properties.values()}.values():
        pid = field["PROPERTY_ID"]
        raw = given.get(pid)
        if raw is None and field["TYPE"] == "N:Sequence":
            if row.get(f"PROPERTY_{pid}"):
                continue  # a counter keeps its value
            raw = str(next_id(ctx, f"list_sequence_{pid}"))
        elif raw is None and error == "ERROR_ADD_ELEMENT" and field["DEFAULT_VALUE"] not in (None, ""):
            raw = field["DEFAULT_VALUE"]
        _set_property(ctx, row, field, raw)
        if field["IS_REQUIRED"] == "Y" and not row[f"PROPERTY_{pid}"]:
            raise RestError(400, error, f'Property "{field["NAME"]}" is required.<br>')


def _element(ctx: Ctx, p: Params, lst: Mapping[str, Any]) -> dict[str, Any]:
    element_id, code = php_int(p.get("element_id")), p.get("element_code")
    if element_id <= 0 and code in (None, ""):
        raise missing("ELEMENT_ID")
    table = ctx.portal.table("list_elements")
    if element_id > 0:
        row = table.get(element_id)
    else:
        row = next((r for r in table if r["IBLOCK_ID"] == lst["ID"] and r["CODE"] == str(code)), None)
    if row is None or row["IBLOCK_ID"] != lst["ID"]:
        raise RestError(400, "ERROR_ELEMENT_NOT_FOUND", "Element not found")
    return row


def _fields_param(p: Params) -> dict[str, Any]:
    if "fields" not in p:
        raise missing("FIELDS")
    return {str(k).upper(): v for k, v in p.mapping("fields").items()}


@method("lists.element.add", scope="lists")
def element_add(ctx: Ctx, p: Params) -> int:
    lst = find_list(ctx, p)
    code = p.get("element_code")
    if code in (None, "") or isinstance(code, dict | list):
        raise missing("ELEMENT_CODE")
    fields = _fields_param(p)
    table = ctx.portal.table("list_elements")
    if any(r["IBLOCK_ID"] == lst["ID"] and r["CODE"] == str(code) for r in table):
        raise RestError(400, "ERROR_ELEMENT_ALREADY_EXISTS", "Element already exists")
    now = ctx.portal.clock.iso()
    user = ctx.caller.user_id
    section = php_int(p.get("iblock_section_id"))
    row: dict[str, Any] = {
        "IBLOCK_ID": lst["ID"],
        "CODE": str(code),
        "IBLOCK_SECTION_ID": section or None,
        "CREATED_BY": user,
        "MODIFIED_BY": user,
        "DATE_CREATE": now,
        "TIMESTAMP_X": now,
        "SORT": 500,
        "ACTIVE_FROM": None,
        "ACTIVE_TO": None,
        "PREVIEW_TEXT": "",
        "DETAIL_TEXT": "",
        "BP_PUBLISHED": "Y",
    }
    _apply(ctx, lst, row, fields, "ERROR_ADD_ELEMENT")
    element_id = table.insert(row)
    row["ID"] = element_id
    table.save(element_id, row)
    return element_id


@method("lists.element.update", scope="lists")
def element_update(ctx: Ctx, p: Params) -> bool:
    lst = find_list(ctx, p)
    row = dict(_element(ctx, p, lst))
    _apply(ctx, lst, row, _fields_param(p), "ERROR_UPDATE_ELEMENT")
    row.update(MODIFIED_BY=ctx.caller.user_id, TIMESTAMP_X=ctx.portal.clock.iso())
    ctx.portal.table("list_elements").save(int(row["ID"]), row)
    return True


@method("lists.element.delete", scope="lists")
def element_delete(ctx: Ctx, p: Params) -> bool:
    lst = find_list(ctx, p)
    row = _element(ctx, p, lst)
    ctx.portal.table("list_elements").delete(int(row["ID"]))
    return True


# -- reading --------------------------------------------------------------------------------


def _resolver(properties: dict[str, dict[str, Any]]) -> Any:
    def resolve(name: str) -> FieldRef | None:
        if name in _BASE_KINDS:
            return FieldRef(name, _BASE_KINDS[name])
        field = properties.get(name)
        return None if field is None else FieldRef(f"PROPERTY_{field['PROPERTY_ID']}", _kind(field))

    return resolve


def _render(
    ctx: Ctx, row: Mapping[str, Any], props: dict[str, dict[str, Any]], select: list[str]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in select:
        field = props.get(name)
        if field is not None:
            result[field["FIELD_ID"]] = _property_out(ctx, row, field)
        elif name == "CREATED_USER_NAME":
            user = ctx.portal.table("users").get(int(row["CREATED_BY"])) or {}
            full = f"{user.get('NAME', '')} {user.get('LAST_NAME', '')}".strip()
            result[name] = f"({user.get('EMAIL', '')}) {full}"
        elif name in ("DATE_CREATE", "TIMESTAMP_X", "ACTIVE_FROM", "ACTIVE_TO"):
            result[name] = locale_datetime(ctx.portal, row.get(name)) if row.get(name) else None
        elif name in ("PREVIEW_TEXT_TYPE", "DETAIL_TEXT_TYPE"):
            result[name] = "text"
        elif name in _BASE_KINDS:
            value = row.get(name)
            result[name] = None if value is None else str(value)
    return result


def _property_out(ctx: Ctx, row: Mapping[str, Any], field: Mapping[str, Any]) -> Any:
    pid = field["PROPERTY_ID"]
    values, rows = row.get(f"PROPERTY_{pid}") or [], row.get(f"_ROWS_{pid}") or []
    if not values:
        return None
    if field["TYPE"] == "S:Date":
        values = [locale_date(ctx.portal, v) for v in values]
    elif field["TYPE"] == "S:DateTime":
        values = [locale_datetime(ctx.portal, v) for v in values]
    return {str(r): v for r, v in zip(rows, values, strict=True)}


@method("lists.element.get", scope="lists")
def element_get(ctx: Ctx, p: Params) -> Listing:
    lst = find_list(ctx, p)
    props = _properties(ctx, int(lst["ID"]))
    filter_ = {str(k).upper(): v for k, v in p.mapping("filter").items()}
    if php_int(p.get("element_id")) > 0:
        filter_["=ID"] = php_int(p.get("element_id"))
    elif p.get("element_code") not in (None, ""):
        filter_["=CODE"] = p.get("element_code")
    order = {str(k).upper(): v for k, v in p.mapping("element_order").items()} or {"ID": "ASC"}
    resolve = _resolver(props)
    compiled = compile_query(filter_, order, resolve, ctx.portal.clock)
    scoped = [Condition(FieldRef("IBLOCK_ID", "int"), "", lst["ID"], ctx.portal.clock), *compiled.conditions]
    page = paginate(
        ctx.portal.table("list_elements"), Query(scoped, compiled.order), p.get("start"), ctx.portal.cache
    )
    chosen = [str(s).upper() for s in p.items_list("select")]
    if chosen:
        select = chosen if "ID" in chosen else ["ID", *chosen]
    else:
        select = [*DEFAULT_SELECT, *sorted({f["FIELD_ID"] for f in props.values()}, key=lambda k: int(k[9:]))]
    rows = [_render(ctx, row, props, select) for row in page.rows]
    if not chosen:
        rows = [{k: v for k, v in r.items() if not (k.startswith("PROPERTY_") and v is None)} for r in rows]
    return Listing(rows, page.total, page.next)

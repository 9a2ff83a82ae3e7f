"""``lists.field.*``: the custom properties (``PROPERTY_{ID}``) and system fields of a universal list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24kit.emulator.errors import RestError
from b24kit.emulator.methods.lists import find_list, missing, next_id, text_of
from b24kit.emulator.query import flag, php_int
from b24kit.emulator.registry import Ctx, Params, method

FIELD_TYPES = {
    "SORT": "Sorting",
    "ACTIVE_FROM": "Start of activity",
    "ACTIVE_TO": "End of activity",
    "PREVIEW_PICTURE": "Preview image",
    "PREVIEW_TEXT": "Preview text",
    "DETAIL_PICTURE": "Detail image",
    "DETAIL_TEXT": "Detail text",
    "DATE_CREATE": "Creation date",
    "CREATED_BY": "Created by",
    "TIMESTAMP_X": "Modification date",
    "MODIFIED_BY": "Modified by",
    "S": "String",
    "N": "Number",
    "L": "List",
    "F": "File",
    "G": "Binding to sections",
    "E": "Binding to elements",
    "S:Date": "Date",
    "S:DateTime": "Date/Time",
    "S:HTML": "HTML/text",
    "E:EList": "Binding to elements as a list",
    "N:Sequence": "Counter",
    "S:ECrm": "Binding to CRM elements",
    "S:Money": "Money",
    "S:DiskFile": "File (Disk)",
    "S:employee": "Binding to employee",
}
SYSTEM_FIELDS = (
    "SORT",
    "ACTIVE_FROM",
    "ACTIVE_TO",
    "PREVIEW_PICTURE",
    "PREVIEW_TEXT",
    "DETAIL_PICTURE",
    "DETAIL_TEXT",
    "DATE_CREATE",
    "CREATED_BY",
    "TIMESTAMP_X",
    "MODIFIED_BY",
)
DEFAULT_SETTINGS = {
    "SHOW_ADD_FORM": "Y",
    "SHOW_EDIT_FORM": "Y",
    "ADD_READ_ONLY_FIELD": "N",
    "EDIT_READ_ONLY_FIELD": "N",
    "SHOW_FIELD_PREVIEW": "N",
}


def fields_of(ctx: Ctx, list_id: int) -> list[dict[str, Any]]:
    return [f for f in ctx.portal.table("list_fields") if f["IBLOCK_ID"] == list_id]


def _enum_items(ctx: Ctx, fields: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``LIST`` (temporary ids -> items) plus ``LIST_TEXT_VALUES`` lines, with permanent ids."""
    items: dict[str, dict[str, Any]] = {}
    defaults: list[str] = []
    wanted_defaults = (
        {str(v) for v in (fields.get("LIST_DEF") or [])}
        if isinstance(fields.get("LIST_DEF"), list)
        else {str(fields.get("LIST_DEF"))}
        if fields.get("LIST_DEF") not in (None, "")
        else set()
    )
    raw = fields.get("LIST")
    entries = raw.items() if isinstance(raw, Mapping) else enumerate(raw) if isinstance(raw, list) else []
    for temp, item in entries:
        value = text_of(item.get("VALUE")) if isinstance(item, Mapping) else text_of(item)
        if not value:
            continue
        enum_id = str(next_id(ctx, "list_enum"))
        is_default = (isinstance(item, Mapping) and flag(item.get("DEF", "N")) == "Y") or str(
            temp
        ) in wanted_defaults
        sort = (
            php_int(item.get("SORT")) if isinstance(item, Mapping) and item.get("SORT") is not None else 500
        )
        items[enum_id] = {"VALUE": value, "SORT": sort, "DEF": "Y" if is_default else "N"}
        if is_default:
            defaults.append(enum_id)
    for line in str(fields.get("LIST_TEXT_VALUES") or "").splitlines():
        if line.strip():
            items[str(next_id(ctx, "list_enum"))] = {"VALUE": line.strip(), "SORT": 500, "DEF": "N"}
    return items, defaults


def _save_error(text: str) -> RestError:
    return RestError(400, "ERROR_SAVE_FIELD", text)


@method("lists.field.add", scope="lists")
def field_add(ctx: Ctx, p: Params) -> str:
    lst = find_list(ctx, p)
    if "fields" not in p:
        raise missing("FIELDS")
    fields = {str(k).upper(): v for k, v in p.mapping("fields").items()}
    name, kind, code = text_of(fields.get("NAME")), text_of(fields.get("TYPE")), text_of(fields.get("CODE"))
    if not name:
        raise missing("NAME")
    if not kind:
        raise missing("TYPE")
    if kind not in FIELD_TYPES:
        raise _save_error("Error saving the field")
    existing = fields_of(ctx, int(lst["ID"]))
    system = kind in SYSTEM_FIELDS
    if system:
        code = kind
    elif not code:
        raise _save_error("Please fill the code fields")
    if any(f["CODE"] == code for f in existing):
        raise _save_error("Property already exists")
    settings = {
        **DEFAULT_SETTINGS,
        **{str(k).upper(): flag(v) for k, v in _mapping(fields.get("SETTINGS")).items()},
    }
    default = fields.get("DEFAULT_VALUE")
    if settings["ADD_READ_ONLY_FIELD"] == "Y" and default in (None, ""):
        raise _save_error(f"The default value of the field '{name}' is required")
    items, defaults = _enum_items(ctx, fields) if kind == "L" else ({}, [])
    if kind in ("G", "E", "E:EList") and php_int(fields.get("LINK_IBLOCK_ID")) <= 0:
        raise _save_error(f"Incorrect lists specified for '{name}' property")
    row: dict[str, Any] = {
        "IBLOCK_ID": lst["ID"],
        "NAME": name,
        "TYPE": kind,
        "CODE": code,
        "SYSTEM": system,
        "SORT": php_int(fields.get("SORT")) or 500,
        "IS_REQUIRED": flag(fields.get("IS_REQUIRED", "N")),
        "MULTIPLE": "N" if system else flag(fields.get("MULTIPLE", "N")),
        "DEFAULT_VALUE": defaults[0] if defaults else "" if default is None else default,
        "SETTINGS": settings,
        "USER_TYPE_SETTINGS": _mapping(fields.get("USER_TYPE_SETTINGS")) or None,
        "LINK_IBLOCK_ID": php_int(fields.get("LINK_IBLOCK_ID")) or None,
        "ROW_COUNT": php_int(fields.get("ROW_COUNT")) or 1,
        "COL_COUNT": php_int(fields.get("COL_COUNT")) or 30,
        "LIST": items,
    }
    property_id = 0 if system else next_id(ctx, "list_property")
    row["PROPERTY_ID"] = property_id or None
    row["FIELD_ID"] = code if system else f"PROPERTY_{property_id}"
    ctx.portal.table("list_fields").insert(row)
    return str(row["FIELD_ID"])


def _mapping(raw: Any) -> dict[str, Any]:
    return dict(raw) if isinstance(raw, Mapping) else {}


def name_field() -> dict[str, Any]:
    return {
        "FIELD_ID": "NAME",
        "SORT": 10,
        "NAME": "Name",
        "IS_REQUIRED": "Y",
        "MULTIPLE": "N",
        "DEFAULT_VALUE": "",
        "TYPE": "NAME",
        "SETTINGS": dict(DEFAULT_SETTINGS),
    }


def render_field(row: Mapping[str, Any]) -> dict[str, Any]:
    if row["SYSTEM"]:
        return {
            "FIELD_ID": row["FIELD_ID"],
            "SORT": row["SORT"],
            "NAME": row["NAME"],
            "IS_REQUIRED": row["IS_REQUIRED"],
            "MULTIPLE": "N",
            "DEFAULT_VALUE": row["DEFAULT_VALUE"],
            "TYPE": row["TYPE"],
            "SETTINGS": row["SETTINGS"],
        }
    base, _, user_type = row["TYPE"].partition(":")
    result: dict[str, Any] = {
        "FIELD_ID": row["FIELD_ID"],
        "SORT": row["SORT"],
        "NAME": row["NAME"],
        "IS_REQUIRED": row["IS_REQUIRED"],
        "MULTIPLE": row["MULTIPLE"],
        "DEFAULT_VALUE": row["DEFAULT_VALUE"],
        "TYPE": row["TYPE"],
        "PROPERTY_TYPE": base,
        "PROPERTY_USER_TYPE": {
            "PROPERTY_TYPE": base,
            "USER_TYPE": user_type,
            "DESCRIPTION": FIELD_TYPES[row["TYPE"]],
        }
        if user_type
        else False,
        "CODE": row["CODE"],
        "ID": str(row["PROPERTY_ID"]),
        "LINK_IBLOCK_ID": None if row["LINK_IBLOCK_ID"] is None else str(row["LINK_IBLOCK_ID"]),
        "ROW_COUNT": str(row["ROW_COUNT"]),
        "COL_COUNT": str(row["COL_COUNT"]),
        "USER_TYPE_SETTINGS": row["USER_TYPE_SETTINGS"],
        "SETTINGS": row["SETTINGS"],
    }
    if row["TYPE"] == "L":
        result["DISPLAY_VALUES_FORM"] = {k: v["VALUE"] for k, v in sorted(row["LIST"].items(), key=_by_sort)}
    return result


def _by_sort(item: tuple[str, dict[str, Any]]) -> tuple[int, int]:
    return (int(item[1]["SORT"]), int(item[0]))


@method("lists.field.get", scope="lists")
def field_get(ctx: Ctx, p: Params) -> Any:
    """All fields keyed by ``FIELD_ID``; one field (``FIELD_ID``) keyed by its ``TYPE``, as the docs show."""
    lst = find_list(ctx, p)
    fields = sorted(fields_of(ctx, int(lst["ID"])), key=lambda f: (f["SORT"], f["FIELD_ID"]))
    wanted = text_of(p.get("field_id"))
    if wanted:
        if wanted == "NAME":
            return {"NAME": name_field()}
        found = [f for f in fields if f["FIELD_ID"] == wanted]
        return {found[0]["TYPE"]: render_field(found[0])} if found else []
    return {"NAME": name_field(), **{f["FIELD_ID"]: render_field(f) for f in fields}}


@method("lists.field.type.get", scope="lists")
def field_type_get(ctx: Ctx, p: Params) -> dict[str, str]:
    find_list(ctx, p)
    return dict(FIELD_TYPES)

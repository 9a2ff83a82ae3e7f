"""User fields (``UF_CRM_*``) of CRM entities: ``crm.<entity>.userfield.*`` semantics.

Rows of the ``userfields`` table keep labels as language maps (``{"en": "Color", "ru": ...}``)
and enumeration items under ``LIST`` with portal-wide item ids; records store the item id.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from b24kit.emulator.errors import RestError, error_core, legacy_error
from b24kit.emulator.query import FieldRef, compile_query, flag, matching_ids, php_int

from .entities import EntityType
from .fields import FieldDef
from .ufschema import (
    LABEL_KEYS,
    LANGS,
    USER_TYPES,
    label,
    lang_map,
    settings_for,
    show_filter,
)

if TYPE_CHECKING:
    from b24kit.emulator.portal import Portal

_NAME_RE = re.compile(r"^[A-Z0-9_]+$")
_FILTERABLE = {
    "ID": "int",
    "FIELD_NAME": "str",
    "USER_TYPE_ID": "str",
    "XML_ID": "str",
    "SORT": "int",
    "MULTIPLE": "flag",
    "MANDATORY": "flag",
    "SHOW_FILTER": "str",
    "SHOW_IN_LIST": "flag",
    "EDIT_IN_LIST": "flag",
    "IS_SEARCHABLE": "flag",
}


def full_name(entity: EntityType, raw: str) -> str:
    """``MANAGER_NOTE`` and ``UF_MANAGER_NOTE`` -> ``UF_CRM_MANAGER_NOTE``; a full name stays."""
    name = raw.strip().upper()
    if name.startswith(entity.uf_prefix):
        return name
    return entity.uf_prefix + (name[3:] if name.startswith("UF_") else name)


def add_userfield(portal: Portal, entity: EntityType, fields: dict[str, Any]) -> int:
    """``crm.<entity>.userfield.add``: validate, prefix the name, store; returns the UF id."""
    raw_name = str(fields.get("FIELD_NAME") or "").strip()
    if not raw_name:
        raise legacy_error("The 'FIELD_NAME' field is not found.")
    user_type = str(fields.get("USER_TYPE_ID") or "").strip()
    if not user_type:
        raise legacy_error("The 'USER_TYPE_ID' field is not found.")
    if user_type not in USER_TYPES:
        raise error_core("Incorrect custom type specified.")
    name = full_name(entity, raw_name)
    if len(name) > 50:
        raise error_core("Field name is too long (more than 50 characters).")
    if not _NAME_RE.match(name):
        raise error_core("Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _.")
    if uf_row_by_name(portal, entity, name) is not None:
        raise error_core(f"A user field {name} already exists for the entity {entity.uf_entity}.")
    sort = php_int(fields.get("SORT", 100))
    row: dict[str, Any] = {
        "ENTITY_ID": entity.uf_entity,
        "FIELD_NAME": name,
        "USER_TYPE_ID": user_type,
        "XML_ID": None if fields.get("XML_ID") in (None, "") else str(fields["XML_ID"]),
        "SORT": sort if sort > 0 else 100,
        "MULTIPLE": "N" if user_type == "boolean" else flag(fields.get("MULTIPLE", "N")),
        "MANDATORY": flag(fields.get("MANDATORY", "N")),
        "SHOW_FILTER": show_filter(fields.get("SHOW_FILTER", "N")),
        "SHOW_IN_LIST": flag(fields.get("SHOW_IN_LIST", "N")),
        "EDIT_IN_LIST": flag(fields.get("EDIT_IN_LIST", "Y")),
        "IS_SEARCHABLE": flag(fields.get("IS_SEARCHABLE", "N")),
        "SETTINGS": settings_for(user_type, fields.get("SETTINGS")),
        "LIST": [],
    }
    base = lang_map(fields.get("LABEL"), dict.fromkeys(LANGS, ""))
    for key in LABEL_KEYS:
        row[key] = lang_map(fields.get(key), base)
    if user_type == "enumeration":
        _checked(
            [
                {"XML_ID": str(i.get("XML_ID") or "").strip()}
                for i in _listed(fields.get("LIST"))
                if str(i.get("VALUE") or "").strip() and str(i.get("XML_ID") or "").strip()
            ],
            "value ",
        )
    table = portal.table("userfields")
    uf_id = table.insert(row)
    row["ID"] = uf_id
    if user_type == "enumeration":
        row["LIST"] = _with_defaults(row, _new_items(portal, uf_id, fields.get("LIST")))
    table.save(uf_id, row)
    return uf_id


def _listed(value: Any) -> list[dict[str, Any]]:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, dict)]


def _new_items(portal: Portal, uf_id: int, value: Any) -> list[dict[str, Any]]:
    """List items to add; items with an empty ``VALUE`` are ignored (docs)."""
    result: list[dict[str, Any]] = []
    for item in _listed(value):
        text = str(item.get("VALUE") or "").strip()
        if not text:
            continue
        enum_id = portal.table("uf_enum_ids").insert({"UF": uf_id})
        xml_id = str(item.get("XML_ID") or "").strip()
        if not xml_id:
            xml_id = hashlib.md5(f"{uf_id}:{enum_id}:{text}".encode(), usedforsecurity=False).hexdigest()
        result.append(
            {
                "ID": enum_id,
                "SORT": max(php_int(item.get("SORT", 0)), 0),
                "VALUE": text,
                "DEF": flag(item.get("DEF", "N")),
                "XML_ID": xml_id,
            }
        )
    return result


def _with_defaults(row: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A single-value list keeps only its first ``DEF=Y`` item as the default."""
    if row["MULTIPLE"] == "N":
        seen = False
        for item in items:
            if item["DEF"] == "Y":
                item["DEF"] = "N" if seen else "Y"
                seen = True
    return sorted(items, key=lambda i: (i["SORT"], i["ID"]))


def _checked(items: list[dict[str, Any]], wording: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for item in items:
        if item["XML_ID"] in seen:
            if wording:
                raise error_core(f"List item with {wording}XML_ID={item['XML_ID']} already exists.")
            raise error_core(f"List item with XML_ID='{item['XML_ID']}' already exists")
        seen.add(item["XML_ID"])
    return items


def update_userfield(portal: Portal, entity: EntityType, uf_id: Any, fields: dict[str, Any]) -> None:
    """``crm.<entity>.userfield.update``: labels, flags, settings and list items (``DEL=Y``)."""
    row = require_uf(portal, entity, uf_id)
    for key in ("MANDATORY", "SHOW_IN_LIST", "EDIT_IN_LIST", "IS_SEARCHABLE"):
        if key in fields:
            row[key] = flag(fields[key])
    if "SHOW_FILTER" in fields:
        row["SHOW_FILTER"] = show_filter(fields["SHOW_FILTER"])
    if "SORT" in fields and php_int(fields["SORT"]) > 0:
        row["SORT"] = php_int(fields["SORT"])
    if "XML_ID" in fields:
        row["XML_ID"] = None if fields["XML_ID"] in (None, "") else str(fields["XML_ID"])
    if isinstance(fields.get("SETTINGS"), dict):
        row["SETTINGS"] = settings_for(row["USER_TYPE_ID"], {**row["SETTINGS"], **fields["SETTINGS"]})
    base = lang_map(fields["LABEL"], dict.fromkeys(LANGS, "")) if "LABEL" in fields else None
    for key in LABEL_KEYS:
        if key in fields:
            row[key] = lang_map(fields[key], base or row[key])
        elif base is not None:
            row[key] = dict(base)
    if "LIST" in fields and row["USER_TYPE_ID"] == "enumeration":
        row["LIST"] = _checked(_with_defaults(row, _edit_items(portal, row, fields["LIST"])), "")
    portal.table("userfields").save(int(row["ID"]), row)


def _edit_items(portal: Portal, row: dict[str, Any], edits: Any) -> list[dict[str, Any]]:
    items = {item["ID"]: dict(item) for item in row["LIST"]}
    additions: list[dict[str, Any]] = []
    for edit in _listed(edits):
        enum_id = php_int(edit.get("ID", 0))
        if enum_id not in items:
            if not enum_id:
                additions.append(edit)
            continue
        if flag(edit.get("DEL", "N")) == "Y":
            del items[enum_id]
            continue
        item = items[enum_id]
        if str(edit.get("VALUE") or "").strip():
            item["VALUE"] = str(edit["VALUE"]).strip()
        if "SORT" in edit:
            item["SORT"] = max(php_int(edit["SORT"]), 0)
        if "DEF" in edit:
            item["DEF"] = flag(edit["DEF"])
        if str(edit.get("XML_ID") or "").strip():
            item["XML_ID"] = str(edit["XML_ID"]).strip()
    return [*items.values(), *_new_items(portal, int(row["ID"]), additions)]


def delete_userfield(portal: Portal, entity: EntityType, uf_id: Any) -> None:
    """Drop the field and, as dropping its column does, its values on every record."""
    row = require_uf(portal, entity, uf_id)
    portal.table("userfields").delete(int(row["ID"]))
    records = portal.table(entity.table)
    for rid, record in list(records.rows.items()):
        if row["FIELD_NAME"] in record:
            changed = dict(record)
            del changed[row["FIELD_NAME"]]
            records.save(rid, changed)


def require_uf(portal: Portal, entity: EntityType, uf_id: Any) -> dict[str, Any]:
    number = php_int(uf_id)
    if number <= 0:
        raise legacy_error("ID is not defined or invalid.")
    row = portal.table("userfields").get(number)
    if row is None or row["ENTITY_ID"] != entity.uf_entity:
        raise RestError(400, "ERROR_NOT_FOUND", f"The entity with ID '{number}' is not found")
    return row


def uf_rows(portal: Portal, entity: EntityType) -> list[dict[str, Any]]:
    rows = [row for row in portal.table("userfields") if row["ENTITY_ID"] == entity.uf_entity]
    return sorted(rows, key=lambda r: (r["SORT"], r["ID"]))


def list_userfields(
    portal: Portal, entity: EntityType, filter_: dict[str, Any], order: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """Rows matching a ``userfield.list`` filter (``LANG`` picks the label language)."""
    conditions = {k: v for k, v in filter_.items() if str(k).upper().lstrip("=!<>%@") != "LANG"}
    lang = next((str(v) for k, v in filter_.items() if str(k).upper() == "LANG"), None)
    conditions["=ENTITY_ID"] = entity.uf_entity
    fields = dict(_FILTERABLE, ENTITY_ID="str")

    def resolve(name: str) -> FieldRef | None:
        kind = fields.get(name.upper())
        return None if kind is None else FieldRef(name.upper(), kind)

    query = compile_query(conditions, order or {"SORT": "ASC", "ID": "ASC"}, resolve, portal.clock)
    table = portal.table("userfields")
    return [table.rows[i] for i in matching_ids(table, query, portal.cache)], lang


def uf_defs(portal: Portal, entity: EntityType) -> list[FieldDef]:
    language = portal.settings.language
    return [
        FieldDef(
            row["FIELD_NAME"],
            row["USER_TYPE_ID"],
            label(row, "EDIT_FORM_LABEL", language) or row["FIELD_NAME"],
            multiple=row["MULTIPLE"] == "Y",
            required=row["MANDATORY"] == "Y",
            user_field=True,
            uf_id=int(row["ID"]),
            status_type=row["SETTINGS"].get("ENTITY_TYPE") if row["USER_TYPE_ID"] == "crm_status" else None,
        )
        for row in uf_rows(portal, entity)
    ]


def uf_row_by_name(portal: Portal, entity: EntityType, name: str) -> dict[str, Any] | None:
    for row in uf_rows(portal, entity):
        if row["FIELD_NAME"] == name:
            return row
    return None

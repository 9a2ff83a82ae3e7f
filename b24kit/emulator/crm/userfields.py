"""User fields (``UF_CRM_*``) of CRM entities, with enumeration lists."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import RestError, error_core, legacy_error
from ..query import flag, php_int
from .entities import EntityType
from .fields import FieldDef

if TYPE_CHECKING:
    from ..portal import Portal

USER_TYPES = {
    "string", "integer", "double", "boolean", "datetime", "date", "money", "url", "address",
    "enumeration", "file", "employee", "crm_status", "iblock_section", "iblock_element", "crm",
}
_NAME_RE = re.compile(r"^[A-Z0-9_]+$")


def add_userfield(portal: Portal, entity: EntityType, fields: dict[str, Any]) -> int:
    """``crm.<entity>.userfield.add``: validate, prefix the name, store; returns the UF id."""
    raw_name = str(fields.get("FIELD_NAME") or "").strip().upper()
    if not raw_name:
        raise legacy_error("The 'FIELD_NAME' field is not found.")
    user_type = str(fields.get("USER_TYPE_ID") or "string").strip().lower()
    if user_type not in USER_TYPES:
        raise error_core(f"Unknown user field type '{user_type}'")
    name = raw_name if raw_name.startswith(entity.uf_prefix) else _prefixed(raw_name, entity)
    if len(name) > 50 or not _NAME_RE.match(name):
        raise error_core(
            f"The field code '{name}' may contain only A-Z, 0-9 and _ and be 50 characters at most"
        )
    table = portal.table("userfields")
    if any(r["ENTITY_ID"] == entity.uf_entity and r["FIELD_NAME"] == name for r in table):
        raise error_core(f"A user field with the code '{name}' already exists")
    label = str(fields.get("LABEL") or fields.get("EDIT_FORM_LABEL") or name)
    row = {
        "ENTITY_ID": entity.uf_entity,
        "FIELD_NAME": name,
        "USER_TYPE_ID": user_type,
        "XML_ID": fields.get("XML_ID"),
        "SORT": php_int(fields.get("SORT", 100)),
        "MULTIPLE": flag(fields.get("MULTIPLE", "N")),
        "MANDATORY": flag(fields.get("MANDATORY", "N")),
        "SHOW_FILTER": str(fields.get("SHOW_FILTER", "N")),
        "SHOW_IN_LIST": flag(fields.get("SHOW_IN_LIST", "Y")),
        "EDIT_IN_LIST": flag(fields.get("EDIT_IN_LIST", "Y")),
        "IS_SEARCHABLE": flag(fields.get("IS_SEARCHABLE", "N")),
        "SETTINGS": fields.get("SETTINGS") if isinstance(fields.get("SETTINGS"), dict) else {},
        "EDIT_FORM_LABEL": str(fields.get("EDIT_FORM_LABEL") or label),
        "LIST_COLUMN_LABEL": str(fields.get("LIST_COLUMN_LABEL") or label),
        "LIST_FILTER_LABEL": str(fields.get("LIST_FILTER_LABEL") or label),
        "ERROR_MESSAGE": fields.get("ERROR_MESSAGE"),
        "HELP_MESSAGE": fields.get("HELP_MESSAGE"),
        "LIST": [],
    }
    uf_id = table.insert(row)
    row["ID"] = uf_id
    if user_type == "enumeration":
        row["LIST"] = _enum_items(portal, fields.get("LIST"))
    table.save(uf_id, row)
    return uf_id


def update_userfield(portal: Portal, entity: EntityType, uf_id: int, fields: dict[str, Any]) -> None:
    table = portal.table("userfields")
    row = table.get(uf_id)
    if row is None or row["ENTITY_ID"] != entity.uf_entity:
        raise legacy_error("Not found")
    for key in ("SORT", "MANDATORY", "SHOW_FILTER", "EDIT_FORM_LABEL", "LIST_COLUMN_LABEL",
                "LIST_FILTER_LABEL", "SETTINGS", "XML_ID"):
        if key in fields:
            row[key] = fields[key]
    if "LABEL" in fields:
        for key in ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL"):
            row[key] = str(fields["LABEL"])
    if "LIST" in fields and row["USER_TYPE_ID"] == "enumeration":
        row["LIST"] = _edit_enum(portal, row["LIST"], fields["LIST"])
    table.save(uf_id, row)


def _prefixed(name: str, entity: EntityType) -> str:
    bare = name[3:] if name.startswith("UF_") else name
    if bare.startswith("CRM_") and entity.uf_prefix == "UF_CRM_":
        bare = bare[4:]
    return entity.uf_prefix + bare


def _listed(value: Any) -> list[dict[str, Any]]:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, dict)]


def _enum_items(portal: Portal, value: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    seen_xml: set[str] = set()
    for item in _listed(value):
        text = str(item.get("VALUE") or "").strip()
        if not text:
            continue  # docs: list items with an empty VALUE are ignored
        xml_id = str(item.get("XML_ID") or "") or None
        if xml_id is not None:
            if xml_id in seen_xml:
                raise error_core(f"Duplicate XML_ID '{xml_id}' in the list")
            seen_xml.add(xml_id)
        enum_id = portal.table("uf_enum_ids").insert({"VALUE": text})
        result.append(
            {
                "ID": enum_id,
                "SORT": php_int(item.get("SORT", 10 * (len(result) + 1))),
                "VALUE": text,
                "DEF": flag(item.get("DEF", "N")),
                "XML_ID": xml_id or f"{enum_id}",
            }
        )
    return result


def _edit_enum(portal: Portal, current: list[dict[str, Any]], edits: Any) -> list[dict[str, Any]]:
    items = {item["ID"]: item for item in current}
    additions: list[dict[str, Any]] = []
    for edit in _listed(edits):
        enum_id = php_int(edit.get("ID", 0))
        if enum_id in items:
            if flag(edit.get("DEL", "N")) == "Y":
                del items[enum_id]
            else:
                for key in ("VALUE", "SORT", "DEF", "XML_ID"):
                    if key in edit:
                        items[enum_id][key] = edit[key]
        else:
            additions.append(edit)
    return [*items.values(), *_enum_items(portal, additions)]


def uf_rows(portal: Portal, entity: EntityType) -> list[dict[str, Any]]:
    return [row for row in portal.table("userfields") if row["ENTITY_ID"] == entity.uf_entity]


def uf_defs(portal: Portal, entity: EntityType) -> list[FieldDef]:
    defs = []
    for row in uf_rows(portal, entity):
        defs.append(
            FieldDef(
                row["FIELD_NAME"],
                row["USER_TYPE_ID"],
                row["EDIT_FORM_LABEL"],
                multiple=row["MULTIPLE"] == "Y",
                required=row["MANDATORY"] == "Y",
                user_field=True,
                uf_id=int(row["ID"]),
            )
        )
    return defs


def uf_row_by_name(portal: Portal, entity: EntityType, name: str) -> dict[str, Any] | None:
    for row in uf_rows(portal, entity):
        if row["FIELD_NAME"] == name:
            return row
    return None


def render_userfield(row_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """A ``crm.<entity>.userfield.list`` row: ids and numbers as strings, as the portal sends."""
    return {
        "ID": str(row_id),
        "ENTITY_ID": row["ENTITY_ID"],
        "FIELD_NAME": row["FIELD_NAME"],
        "USER_TYPE_ID": row["USER_TYPE_ID"],
        "XML_ID": row.get("XML_ID"),
        "SORT": str(row["SORT"]),
        "MULTIPLE": row["MULTIPLE"],
        "MANDATORY": row["MANDATORY"],
        "SHOW_FILTER": row["SHOW_FILTER"],
        "SHOW_IN_LIST": row["SHOW_IN_LIST"],
        "EDIT_IN_LIST": row["EDIT_IN_LIST"],
        "IS_SEARCHABLE": row["IS_SEARCHABLE"],
        "SETTINGS": row["SETTINGS"] or [],
        "EDIT_FORM_LABEL": row["EDIT_FORM_LABEL"],
        "LIST_COLUMN_LABEL": row["LIST_COLUMN_LABEL"],
        "LIST_FILTER_LABEL": row["LIST_FILTER_LABEL"],
        "ERROR_MESSAGE": row.get("ERROR_MESSAGE"),
        "HELP_MESSAGE": row.get("HELP_MESSAGE"),
        **(
            {
                "LIST": [
                    {
                        "ID": str(item["ID"]),
                        "SORT": str(item["SORT"]),
                        "VALUE": item["VALUE"],
                        "DEF": item["DEF"],
                        "XML_ID": item["XML_ID"],
                    }
                    for item in row["LIST"]
                ]
            }
            if row["USER_TYPE_ID"] == "enumeration"
            else {}
        ),
    }


def require_uf(portal: Portal, entity: EntityType, uf_id: Any) -> dict[str, Any]:
    row = portal.table("userfields").get(php_int(uf_id))
    if row is None or row["ENTITY_ID"] != entity.uf_entity:
        raise RestError(400, "", "Not found")
    return row

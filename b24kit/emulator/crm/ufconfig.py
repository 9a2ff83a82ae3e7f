"""``userfieldconfig.*`` for the CRM module: the camelCase way smart processes get user fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b24kit.emulator.errors import RestError
from b24kit.emulator.query import php_int

from .entities import EntityType, all_entities
from .ufschema import LABEL_KEYS
from .userfields import add_userfield, delete_userfield, require_uf, uf_rows

if TYPE_CHECKING:
    from b24kit.emulator.portal import Portal

_CAMEL_LABELS = {
    "EDIT_FORM_LABEL": "editFormLabel",
    "LIST_COLUMN_LABEL": "listColumnLabel",
    "LIST_FILTER_LABEL": "listFilterLabel",
    "ERROR_MESSAGE": "errorMessage",
    "HELP_MESSAGE": "helpMessage",
}


def require_crm_module(module_id: Any) -> None:
    if str(module_id or "") != "crm":
        raise RestError(400, "ACCESS_DENIED", "Access denied")


def entity_for(portal: Portal, uf_entity: Any) -> EntityType:
    """The CRM entity whose user fields live under ``CRM_DEAL``, ``CRM_7``, ``CRM_SMART_INVOICE``..."""
    for entity in all_entities(portal):
        if entity.uf_entity == str(uf_entity or ""):
            return entity
    raise RestError(400, "ERROR_ARGUMENT", f"Entity '{uf_entity}' is not found")


def add(portal: Portal, field: dict[str, Any]) -> dict[str, Any]:
    """``userfieldconfig.add``: the same checks as ``crm.*.userfield.add``; only documented keys."""
    entity = entity_for(portal, field.get("entityId"))
    legacy = {
        "FIELD_NAME": field.get("fieldName"),
        "USER_TYPE_ID": field.get("userTypeId"),
        "XML_ID": field.get("xmlId"),
        "SORT": field.get("sort", 100),
        "MULTIPLE": field.get("multiple", "N"),
        "MANDATORY": field.get("mandatory", "N"),
        "SHOW_FILTER": field.get("showFilter", "N"),
        "SHOW_IN_LIST": "Y",
        "EDIT_IN_LIST": field.get("editInList", "Y"),
        "IS_SEARCHABLE": field.get("isSearchable", "N"),
        "SETTINGS": field.get("settings"),
        "EDIT_FORM_LABEL": field.get("editFormLabel"),
        "HELP_MESSAGE": field.get("helpMessage"),
        "LIST": [
            {
                "VALUE": e.get("value"),
                "DEF": e.get("def", "N"),
                "SORT": e.get("sort", 0),
                "XML_ID": e.get("xmlId"),
            }
            for e in field.get("enum") or []
            if isinstance(e, dict)
        ],
    }
    uf_id = add_userfield(portal, entity, {k: v for k, v in legacy.items() if v is not None})
    return render(require_uf(portal, entity, uf_id))


def find(portal: Portal, uf_id: Any) -> tuple[EntityType, dict[str, Any]]:
    row = portal.table("userfields").get(php_int(uf_id))
    if row is None:
        raise RestError(400, "ERROR_NOT_FOUND", f"The entity with ID '{php_int(uf_id)}' is not found")
    return entity_for(portal, row["ENTITY_ID"]), row


def remove(portal: Portal, uf_id: Any) -> None:
    entity, row = find(portal, uf_id)
    delete_userfield(portal, entity, row["ID"])


def listed(portal: Portal, uf_entity: Any) -> list[dict[str, Any]]:
    if uf_entity in (None, ""):
        rows = [r for e in all_entities(portal) for r in uf_rows(portal, e)]
    else:
        rows = uf_rows(portal, entity_for(portal, uf_entity))
    return [render(row) for row in rows]


def render(row: dict[str, Any]) -> dict[str, Any]:
    """The ``{"field": {...}}`` body: camelCase keys, string numbers, language maps."""
    result: dict[str, Any] = {
        "id": str(row["ID"]),
        "entityId": row["ENTITY_ID"],
        "fieldName": row["FIELD_NAME"],
        "userTypeId": row["USER_TYPE_ID"],
        "xmlId": row.get("XML_ID"),
        "sort": str(row["SORT"]),
        "multiple": row["MULTIPLE"],
        "mandatory": row["MANDATORY"],
        "showFilter": row["SHOW_FILTER"],
        "showInList": row["SHOW_IN_LIST"],
        "editInList": row["EDIT_IN_LIST"],
        "isSearchable": row["IS_SEARCHABLE"],
        "settings": row["SETTINGS"] or [],
    }
    for key in LABEL_KEYS:
        result[_CAMEL_LABELS[key]] = {lang: text or None for lang, text in (row.get(key) or {}).items()}
    if row["USER_TYPE_ID"] == "enumeration":
        result["enum"] = [
            {
                "id": str(item["ID"]),
                "userFieldId": str(row["ID"]),
                "value": item["VALUE"],
                "def": item["DEF"],
                "sort": str(item["SORT"]),
                "xmlId": item["XML_ID"],
            }
            for item in row["LIST"]
        ]
    return result

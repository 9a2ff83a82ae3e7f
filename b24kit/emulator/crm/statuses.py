"""Reference lists and stages as ``crm.status.*`` manages them: prefixes, caps, wire form."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from b24kit.emulator.errors import RestError, error_core, legacy_error
from b24kit.emulator.query import php_int

from . import stages
from .entities import DEAL, SMART_INVOICE, EntityType, all_entities

if TYPE_CHECKING:
    from b24kit.emulator.portal import Portal

_STAGE_ENTITY = re.compile(
    r"^(?:DEAL_STAGE(?:_(\d+))?|SMART_INVOICE_STAGE_(\d+)|DYNAMIC_(\d+)_STAGE_(\d+)|STATUS)$"
)
OTHER_LISTS = (
    "QUOTE_STATUS",
    "CALL_LIST",
    "DEAL_TYPE",
    "SOURCE",
    "CONTACT_TYPE",
    "COMPANY_TYPE",
    "EMPLOYEES",
    "INDUSTRY",
    "HONORIFIC",
)
_SEMANTIC_NAMES = {"S": "success", "F": "failure"}


def stage_owner(portal: Portal, entity_id: str) -> tuple[EntityType, int] | None:
    """The entity and pipeline whose stages ``DEAL_STAGE_3``, ``DYNAMIC_1038_STAGE_7``... hold."""
    match = _STAGE_ENTITY.match(entity_id)
    if match is None:
        return None
    deal_cat, invoice_cat, dynamic_type, dynamic_cat = match.groups()
    wanted: tuple[int, int]
    if entity_id == "STATUS":
        wanted = (1, 0)
    elif entity_id.startswith("DEAL_STAGE"):
        wanted = (DEAL, int(deal_cat or 0))
    elif invoice_cat is not None:
        wanted = (SMART_INVOICE, int(invoice_cat))
    else:
        wanted = (int(dynamic_type), int(dynamic_cat))
    for entity in all_entities(portal):
        if entity.entity_type_id != wanted[0]:
            continue
        if entity.categories and not stages.category_exists(portal, entity, wanted[1]):
            return None
        return entity, wanted[1]
    return None


def add_status(portal: Portal, fields: dict[str, Any]) -> int:
    """``crm.status.add``: the documented checks, the ``C{n}:`` prefix and the length caps."""
    entity_id = str(fields.get("ENTITY_ID") or "").strip()
    status_id = str(fields.get("STATUS_ID") or "").strip()
    missing = [
        f"The field {n} is required."
        for n, v in (("ENTITY_ID", entity_id), ("STATUS_ID", status_id))
        if not v
    ]
    if missing:
        raise legacy_error("<br>".join(missing))
    name = str(fields.get("NAME") or "").strip()
    if not name:
        raise legacy_error("The field Title is required.")
    owner = stage_owner(portal, entity_id)
    known = {r["ENTITY_ID"] for r in portal.table("crm_statuses")}
    if owner is None and entity_id not in known and entity_id not in OTHER_LISTS:
        raise legacy_error("Specified entity type is not supported.")
    category_id: int | None = None
    limit = 50
    semantics = str(fields.get("SEMANTICS") or "").strip().upper() or None
    sort = php_int(fields.get("SORT", 10))
    if owner is not None:
        entity, category_id = owner
        prefix = entity.stage_prefix(category_id)
        if prefix and not status_id.startswith(prefix):
            status_id = prefix + status_id  # docs: the pipeline prefix is added automatically
        limit = stages.STATUS_ID_MAX
        _check_sort(portal, entity_id, sort, semantics)
        if entity.entity_type_id == DEAL and category_id == 0:
            category_id = None
    status_id = status_id[:limit]
    if any(r["ENTITY_ID"] == entity_id and r["STATUS_ID"] == status_id for r in portal.table("crm_statuses")):
        raise error_core("The specified status ID already exists.")
    return stages.add_status(
        portal,
        entity_id,
        status_id,
        name,
        sort=sort,
        semantics=semantics if semantics in ("S", "F") else None,
        color=str(fields.get("COLOR") or ""),
        category_id=category_id,
    )


def _check_sort(portal: Portal, entity_id: str, sort: int, semantics: str | None) -> None:
    if semantics in ("S", "F"):
        return
    success = [
        r["SORT"]
        for r in portal.table("crm_statuses")
        if r["ENTITY_ID"] == entity_id and r["SEMANTICS"] == "S"
    ]
    if success and sort > min(success):
        raise legacy_error(
            "Cannot create more stages after the final stage because the final successful stage already"
            " exists. Try using sort order values less than that of the final stage."
        )


def require_status(portal: Portal, status_id: Any) -> dict[str, Any]:
    number = php_int(status_id)
    if number <= 0:
        raise legacy_error("ID is not defined or invalid.")
    row = portal.table("crm_statuses").get(number)
    if row is None:
        raise RestError(400, "", "Not found")
    return row


def render_status(row: dict[str, Any], *, extra: bool) -> dict[str, Any]:
    """A ``crm.status.list`` row (``extra``: stage lists add ``EXTRA``) or a ``crm.status.get`` one."""
    result: dict[str, Any] = {
        "ID": str(row["ID"]),
        "ENTITY_ID": row["ENTITY_ID"],
        "STATUS_ID": row["STATUS_ID"],
        "NAME": row["NAME"],
        "NAME_INIT": row.get("NAME_INIT", ""),
        "SORT": str(row["SORT"]),
        "SYSTEM": row["SYSTEM"],
        "CATEGORY_ID": None if row.get("CATEGORY_ID") is None else str(row["CATEGORY_ID"]),
        "COLOR": row.get("COLOR") or None,
        "SEMANTICS": row.get("SEMANTICS"),
    }
    if extra and _STAGE_ENTITY.match(row["ENTITY_ID"]):
        semantics = row.get("SEMANTICS") or ""
        name = _SEMANTIC_NAMES.get(semantics, "process")
        if semantics == "F" and row["SYSTEM"] != "Y":
            name = "apology"
        result["EXTRA"] = {"SEMANTICS": name, "COLOR": row.get("COLOR", "")}
    return result


def entity_types(portal: Portal) -> list[dict[str, Any]]:
    """``crm.status.entity.types``: every list with, for stage lists, its semantic info."""
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in sorted(portal.table("crm_statuses"), key=lambda r: r["ID"]):
        entity_id = row["ENTITY_ID"]
        if entity_id in seen:
            continue
        seen.add(entity_id)
        item: dict[str, Any] = {"ID": entity_id, "NAME": entity_id}
        owner = stage_owner(portal, entity_id)
        if owner is not None:
            entity, category = owner
            listed = stages.stages(portal, entity, category)
            prefix = entity.stage_prefix(category).rstrip(":")
            success = next((r["STATUS_ID"] for r in listed if r["SEMANTICS"] == "S"), None)
            failure = next((r["STATUS_ID"] for r in listed if r["SEMANTICS"] == "F"), None)
            item["SEMANTIC_INFO"] = {
                "START_FIELD": listed[0]["STATUS_ID"] if listed else None,
                "FINAL_SUCCESS_FIELD": success,
                "FINAL_UNSUCCESS_FIELD": failure,
            }
            item["ENTITY_TYPE_ID"] = entity.entity_type_id
            if prefix:
                item["PREFIX"] = prefix
            if entity.categories:
                item["CATEGORY_ID"] = category
        result.append(item)
    return result

"""Pipelines (categories) and stages/statuses (``crm.category.*``, ``crm.status.*``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .entities import DEAL, LEAD, SMART_INVOICE, EntityType

if TYPE_CHECKING:
    from b24kit.emulator.portal import Portal
    from b24kit.emulator.store import Table

STATUS_ID_MAX = 21  # docs: STATUS_ID is capped at 21 characters

# (code, name, semantics, colour, system) as crm.status.list shows a fresh portal's lists
Stage = tuple[str, str, str | None, str, bool]
DEAL_STAGES: list[Stage] = [
    ("NEW", "New", None, "#39A8EF", True),
    ("PREPARATION", "Document preparation", None, "#2FC6F6", False),
    ("PREPAYMENT_INVOICE", "Prepayment invoice", None, "#55D0E0", False),
    ("EXECUTING", "In progress", None, "#47E4C2", False),
    ("FINAL_INVOICE", "Final invoice", None, "#FFA900", False),
    ("WON", "Deal successful", "S", "#7BD500", True),
    ("LOSE", "Deal failed", "F", "#FF5752", True),
    ("APOLOGY", "Failure reason analysis", "F", "#FF5752", False),
]
LEAD_STATUSES: list[Stage] = [
    ("NEW", "Unprocessed", None, "#39A8EF", True),
    ("IN_PROCESS", "In process", None, "#2FC6F6", False),
    ("PROCESSED", "Processed", None, "#55D0E0", False),
    ("CONVERTED", "High-quality lead", "S", "#7BD500", True),
    ("JUNK", "Low-quality lead", "F", "#FF5752", True),
]
INVOICE_STAGES: list[Stage] = [
    ("N", "New", None, "#39A8EF", True),
    ("S", "Sent to client", None, "#2FC6F6", False),
    ("P", "Paid", "S", "#7BD500", True),
    ("D", "Declined", "F", "#FF5752", True),
]
DYNAMIC_STAGES: list[Stage] = [
    ("NEW", "Start", None, "#39A8EF", True),
    ("PREPARATION", "Preparation", None, "#2FC6F6", False),
    ("CLIENT", "Customer approval", None, "#55D0E0", False),
    ("SUCCESS", "Success", "S", "#7BD500", True),
    ("FAIL", "Failure", "F", "#FF5752", True),
]
REFERENCE_LISTS: dict[str, list[tuple[str, str]]] = {
    "SOURCE": [
        ("CALL", "Call"),
        ("EMAIL", "E-mail"),
        ("WEB", "Website"),
        ("ADVERTISING", "Advertising"),
        ("PARTNER", "Existing client"),
        ("RECOMMENDATION", "By recommendation"),
        ("TRADE_SHOW", "Trade show"),
        ("WEBFORM", "CRM form"),
        ("CALLBACK", "Callback"),
        ("RC_GENERATOR", "Sales generator"),
        ("OTHER", "Other"),
    ],
    "CONTACT_TYPE": [
        ("CLIENT", "Clients"),
        ("SUPPLIER", "Suppliers"),
        ("PARTNER", "Partners"),
        ("OTHER", "Other"),
    ],
    "COMPANY_TYPE": [
        ("CUSTOMER", "Client"),
        ("SUPPLIER", "Supplier"),
        ("COMPETITOR", "Competitor"),
        ("PARTNER", "Partner"),
        ("OTHER", "Other"),
    ],
    "DEAL_TYPE": [
        ("SALE", "Sales"),
        ("COMPLEX", "Complex sale"),
        ("GOODS", "Merchandise sale"),
        ("SERVICES", "Service sale"),
        ("SERVICE", "After-sales service"),
    ],
    "INDUSTRY": [
        ("IT", "Information Technology"),
        ("TELECOM", "Telecommunication"),
        ("MANUFACTURING", "Manufacturing"),
        ("BANKING", "Banking"),
        ("OTHER", "Other"),
    ],
    "EMPLOYEES": [
        ("EMPLOYEES_1", "less than 50"),
        ("EMPLOYEES_2", "50-250"),
        ("EMPLOYEES_3", "250-500"),
        ("EMPLOYEES_4", "over 500"),
    ],
    "HONORIFIC": [("HNR_EN_1", "Mr."), ("HNR_EN_2", "Mrs."), ("HNR_EN_3", "Ms."), ("HNR_EN_4", "Dr.")],
}


def default_stages(entity: EntityType) -> list[Stage]:
    if entity.entity_type_id == DEAL:
        return DEAL_STAGES
    if entity.entity_type_id == LEAD:
        return LEAD_STATUSES
    if entity.entity_type_id == SMART_INVOICE:
        return INVOICE_STAGES
    return DYNAMIC_STAGES


def add_status(
    portal: Portal,
    entity_id: str,
    status_id: str,
    name: str,
    *,
    sort: int = 10,
    semantics: str | None = None,
    color: str = "",
    category_id: int | None = None,
    system: bool = False,
) -> int:
    row = {
        "ENTITY_ID": entity_id,
        "STATUS_ID": status_id[:STATUS_ID_MAX],
        "NAME": name,
        "NAME_INIT": name if system else "",
        "SORT": sort,
        "SYSTEM": "Y" if system else "N",
        "CATEGORY_ID": category_id,
        "COLOR": color,
        "SEMANTICS": semantics,
    }
    table = portal.table("crm_statuses")
    row_id = table.insert(row)
    row["ID"] = row_id
    table.save(row_id, row)
    return row_id


def category_table(portal: Portal, entity: EntityType) -> Table:
    """Deal pipelines number on their own (as ``b_crm_deal_category``); the others share one table."""
    return portal.table("crm_deal_categories" if entity.entity_type_id == DEAL else "crm_categories")


def create_category(
    portal: Portal,
    entity: EntityType,
    name: str,
    *,
    sort: int = 500,
    is_default: bool = False,
    category_id: int | None = None,
) -> dict[str, Any]:
    """A new pipeline with its default stages (``C{n}:`` / ``DT{type}_{n}:`` prefixed)."""
    table = category_table(portal, entity)
    row: dict[str, Any] = {
        "entityTypeId": entity.entity_type_id,
        "name": name,
        "sort": sort,
        "isDefault": "Y" if is_default else "N",
        "originId": "",
        "originatorId": "",
    }
    if is_default:
        for rid, other in table.rows.items():
            if other["entityTypeId"] == entity.entity_type_id and other["isDefault"] == "Y":
                other["isDefault"] = "N"
                table.save(rid, other)
    new_id = table.insert(row, category_id)
    row["id"] = new_id
    table.save(new_id, row)
    prefix = entity.stage_prefix(new_id)
    for index, (code, title, semantics, color, system) in enumerate(default_stages(entity)):
        add_status(
            portal,
            entity.stage_entity(new_id),
            prefix + code,
            title,
            sort=(index + 1) * 10,
            semantics=semantics,
            color=color,
            system=system,
            category_id=None if entity.entity_type_id == DEAL and new_id == 0 else new_id,
        )
    return row


def categories(portal: Portal, entity: EntityType) -> list[dict[str, Any]]:
    rows = [r for r in category_table(portal, entity) if r["entityTypeId"] == entity.entity_type_id]
    return sorted(rows, key=lambda r: (r["sort"], r["id"]))


def default_category(portal: Portal, entity: EntityType) -> int:
    if not entity.categories:
        return 0
    rows = categories(portal, entity)
    for row in rows:
        if row["isDefault"] == "Y":
            return int(row["id"])
    return int(rows[0]["id"]) if rows else 0


def category_exists(portal: Portal, entity: EntityType, category_id: int) -> bool:
    row = category_table(portal, entity).get(category_id)
    return row is not None and row["entityTypeId"] == entity.entity_type_id


def _index(portal: Portal) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Statuses by list (sorted) and by STATUS_ID, rebuilt when the statuses change."""
    table = portal.table("crm_statuses")
    memo: dict[str, Any] = portal.memo.setdefault("status_index", {})
    if memo.get("version") != table.version:
        by_list: dict[str, list[dict[str, Any]]] = {}
        by_code: dict[str, list[dict[str, Any]]] = {}
        for row in sorted(table, key=lambda r: (r["SORT"], r["ID"])):
            by_list.setdefault(row["ENTITY_ID"], []).append(row)
            by_code.setdefault(row["STATUS_ID"], []).append(row)
        memo.update(version=table.version, lists=by_list, codes=by_code)
    return memo["lists"], memo["codes"]


def status_list(portal: Portal, entity_id: str) -> list[dict[str, Any]]:
    """The items of one reference list or stage list, in ``SORT`` order."""
    return list(_index(portal)[0].get(entity_id, []))


def stages(portal: Portal, entity: EntityType, category_id: int) -> list[dict[str, Any]]:
    return status_list(portal, entity.stage_entity(category_id))


def find_stage(portal: Portal, entity: EntityType, stage_id: str) -> dict[str, Any] | None:
    """The status row of ``stage_id`` among this entity's pipelines, if it exists."""
    for row in _index(portal)[1].get(stage_id, []):
        if _belongs(entity, row["ENTITY_ID"]):
            return row
    return None


def _belongs(entity: EntityType, status_entity: str) -> bool:
    if entity.entity_type_id == DEAL:
        return status_entity == "DEAL_STAGE" or status_entity.startswith("DEAL_STAGE_")
    if entity.entity_type_id == LEAD:
        return status_entity == "STATUS"
    return status_entity.startswith(entity.stage_entity(0).rsplit("_", 1)[0] + "_")


def semantic_id(row: dict[str, Any] | None) -> str:
    if row is None or row.get("SEMANTICS") is None:
        return "P"
    return str(row["SEMANTICS"])


def stage_category(row: dict[str, Any]) -> int:
    category = row.get("CATEGORY_ID")
    return int(category) if category is not None else 0


def seed_reference_lists(portal: Portal) -> None:
    for entity_id, items in REFERENCE_LISTS.items():
        for index, (code, name) in enumerate(items):
            add_status(portal, entity_id, code, name, sort=(index + 1) * 10, system=True)

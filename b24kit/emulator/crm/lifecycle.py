"""The bookkeeping a portal does around a CRM write: defaults, pipelines, derived fields, history."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from b24kit.emulator.errors import RestError, legacy_error

from . import stages
from .entities import COMPANY, CONTACT, DEAL, LEAD, SMART_INVOICE, EntityType
from .multifields import derive_flags

if TYPE_CHECKING:
    from b24kit.emulator.portal import Portal

# crm.<entity>.add: fields set to "the first available" value of a reference list (docs)
_FIRST_OF = {
    DEAL: {"TYPE_ID": "DEAL_TYPE", "SOURCE_ID": "SOURCE"},
    LEAD: {"SOURCE_ID": "SOURCE"},
    CONTACT: {"HONORIFIC": "HONORIFIC", "TYPE_ID": "CONTACT_TYPE", "SOURCE_ID": "SOURCE"},
    COMPANY: {"COMPANY_TYPE": "COMPANY_TYPE", "INDUSTRY": "INDUSTRY", "EMPLOYEES": "EMPLOYEES"},
}


def bad_value(text: str, *, legacy: bool) -> RestError:
    if legacy:
        return legacy_error(text)
    return RestError(400, "CRM_FIELD_ERROR_VALUE_NOT_VALID", text)


def base_currency(portal: Portal) -> str:
    for row in portal.table("currencies"):
        if row.get("BASE") == "Y":
            return str(row["CURRENCY"])
    return "RUB"


def first_status(portal: Portal, entity_id: str) -> str | None:
    rows = stages.status_list(portal, entity_id)
    return str(rows[0]["STATUS_ID"]) if rows else None


def defaults(portal: Portal, entity: EntityType, user_id: int) -> dict[str, Any]:
    """The values ``*.add`` fills in when the caller leaves them out (reference §6.2)."""
    today = portal.clock.now().date()
    etid = entity.entity_type_id
    row: dict[str, Any] = {"OPENED": "Y", "ASSIGNED_BY_ID": user_id}
    for name, list_id in _FIRST_OF.get(etid, {}).items():
        row[name] = first_status(portal, list_id)
    money = {"OPPORTUNITY": 0.0, "CURRENCY_ID": base_currency(portal), "IS_MANUAL_OPPORTUNITY": "N"}
    dates = {"BEGINDATE": today.isoformat(), "CLOSEDATE": (today + timedelta(days=7)).isoformat()}
    if etid == DEAL:
        row.update(money, **dates, TAX_VALUE=0.0, CLOSED="N", CONTACT_IDS=[], OBSERVERS=[])
        row.update(IS_RECURRING="N", IS_RETURN_CUSTOMER="N", IS_REPEATED_APPROACH="N")
    elif etid == LEAD:
        row.update(money, IS_RETURN_CUSTOMER="N", CONTACT_IDS=[], OBSERVERS=[])
    elif etid == CONTACT:
        row.update(EXPORT="Y", COMPANY_IDS=[], OBSERVERS=[])
    elif etid == COMPANY:
        row.update(IS_MY_COMPANY="N", CURRENCY_ID=base_currency(portal), OBSERVERS=[])
    else:
        row.update(money, **dates, TAX_VALUE=0.0, CONTACT_IDS=[], OBSERVERS=[])
    return row


def sync_bindings(row: dict[str, Any], names: set[str], single: str, many: str) -> None:
    """Keep ``CONTACT_ID`` (the primary binding) and ``CONTACT_IDS`` consistent.

    ``CONTACT_IDS`` replaces the whole set; ``CONTACT_ID`` alone makes that contact the primary
    one and keeps the others.
    """
    if many not in row and many not in names:
        return
    if many in names:
        ids = list(dict.fromkeys(i for i in row.get(many) or [] if i))
    elif single in names:
        primary = row.get(single)
        ids = ([primary] if primary else []) + [i for i in row.get(many) or [] if i != primary]
    else:
        return
    row[many] = ids
    row[single] = ids[0] if ids else None


def place_new(portal: Portal, entity: EntityType, row: dict[str, Any], *, legacy: bool) -> None:
    """A new record's pipeline and stage: the given stage (its pipeline), else the pipeline's first."""
    stage_field = entity.stage_field or "STAGE_ID"
    stage_id = row.get(stage_field)
    if not entity.categories:
        if not stage_id:
            row[stage_field] = stages.stages(portal, entity, 0)[0]["STATUS_ID"]
        elif stages.find_stage(portal, entity, str(stage_id)) is None:
            raise bad_value(f"Stage '{stage_id}' is not found", legacy=legacy)
        return
    category = row.get("CATEGORY_ID")
    if stage_id:
        found = stages.find_stage(portal, entity, str(stage_id))
        if found is None:
            raise bad_value(f"Stage '{stage_id}' is not found", legacy=legacy)
        if category is not None and stages.stage_category(found) != category:
            raise bad_value(f"Stage '{stage_id}' belongs to another pipeline", legacy=legacy)
        row["CATEGORY_ID"] = stages.stage_category(found)
        return
    if category is None:
        category = stages.default_category(portal, entity)
    elif not stages.category_exists(portal, entity, int(category)):
        raise bad_value(f"Pipeline {category} is not found", legacy=legacy)
    row["CATEGORY_ID"] = int(category)
    row[stage_field] = stages.stages(portal, entity, int(category))[0]["STATUS_ID"]


def replace_stage(
    portal: Portal,
    entity: EntityType,
    row: dict[str, Any],
    before_category: Any,
    *,
    stage_given: bool,
    legacy: bool,
) -> None:
    """Keep the stage inside the record's pipeline; a pipeline move starts at its first stage."""
    stage_field = entity.stage_field or "STAGE_ID"
    if not entity.categories:
        if stages.find_stage(portal, entity, str(row.get(stage_field) or "")) is None:
            raise bad_value(f"Stage '{row.get(stage_field)}' is not found", legacy=legacy)
        return
    category = row.get("CATEGORY_ID")
    moved = category != before_category
    if moved and (category is None or not stages.category_exists(portal, entity, int(category))):
        raise bad_value(f"Pipeline {category} is not found", legacy=legacy)
    found = stages.find_stage(portal, entity, str(row.get(stage_field) or ""))
    if found is not None and stages.stage_category(found) == category:
        return
    if moved and not stage_given and category is not None:
        row[stage_field] = stages.stages(portal, entity, int(category))[0]["STATUS_ID"]
        return
    raise bad_value(f"Stage '{row.get(stage_field)}' is not found in pipeline {category}", legacy=legacy)


def derive(portal: Portal, entity: EntityType, row: dict[str, Any]) -> None:
    """Fields the portal computes: stage semantics, CLOSED, IS_NEW, HAS_PHONE/HAS_EMAIL, amounts."""
    etid = entity.entity_type_id
    if entity.stage_field and etid in (DEAL, LEAD):
        stage_id = str(row.get(entity.stage_field) or "")
        found = stages.find_stage(portal, entity, stage_id)
        semantic = stages.semantic_id(found)
        if etid == LEAD:
            row["STATUS_SEMANTIC_ID"] = semantic
        else:
            row["STAGE_SEMANTIC_ID"] = semantic
            row["CLOSED"] = "N" if semantic == "P" else "Y"
            first = stages.stages(portal, entity, stages.stage_category(found) if found else 0)
            row["IS_NEW"] = "Y" if first and first[0]["STATUS_ID"] == stage_id else "N"
    if "PHONE" in entity.by_name:
        derive_flags(row)
    if etid in (DEAL, LEAD) and row.get("IS_MANUAL_OPPORTUNITY") != "Y" and row.get("ID"):
        total = product_total(portal, "D" if etid == DEAL else "L", int(row["ID"]))
        if total is not None:
            row["OPPORTUNITY"] = total


def product_rows(portal: Portal, owner_type: str, owner_id: int) -> list[dict[str, Any]]:
    table = portal.table("crm_productrows")
    memo: dict[str, Any] = portal.memo.setdefault("product_rows", {})
    if memo.get("version") != table.version:
        index: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for row in table:
            index.setdefault((row["OWNER_TYPE"], row["OWNER_ID"]), []).append(row)
        memo.update(version=table.version, index=index)
    rows = memo["index"].get((owner_type, owner_id), [])
    return sorted(rows, key=lambda r: (r["SORT"], r["ID"]))


def product_total(portal: Portal, owner_type: str, owner_id: int) -> float | None:
    """The amount product rows add up to (``PRICE * QUANTITY``), or None without rows."""
    rows = product_rows(portal, owner_type, owner_id)
    if not rows:
        return None
    return round(sum(float(r["PRICE"]) * float(r["QUANTITY"]) for r in rows), 2)


def history(portal: Portal, entity: EntityType, row: dict[str, Any], type_id: int) -> None:
    """A ``crm.stagehistory.list`` record: 1 created, 2 moved, 3 moved to a final stage, 5 pipeline."""
    stage_field = entity.stage_field or "STAGE_ID"
    stage_id = str(row.get(stage_field) or "")
    semantic = stages.semantic_id(stages.find_stage(portal, entity, stage_id))
    record: dict[str, Any] = {
        "ENTITY_TYPE_ID": entity.entity_type_id,
        "TYPE_ID": type_id,
        "OWNER_ID": int(row["ID"]),
        "CREATED_TIME": portal.clock.iso(),
    }
    if entity.entity_type_id == LEAD:
        record.update(STATUS_SEMANTIC_ID=semantic, STATUS_ID=stage_id)
    else:
        record.update(CATEGORY_ID=row.get("CATEGORY_ID") or 0, STAGE_SEMANTIC_ID=semantic, STAGE_ID=stage_id)
    table = portal.table("crm_stagehistory")
    history_id = table.insert(record)
    record["ID"] = history_id
    table.save(history_id, record)


def default_title(entity: EntityType, row_id: int) -> str | None:
    """``Deal #12``, ``Lead #3``; contacts and companies have no generated title."""
    if entity.entity_type_id in (CONTACT, COMPANY):
        return None
    if entity.entity_type_id == SMART_INVOICE:
        return f"Invoice #{row_id}"
    return f"{entity.title} #{row_id}"

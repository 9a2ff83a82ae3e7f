"""Creating, changing and deleting CRM records, shared by ``crm.<entity>.*`` and ``crm.item.*``.

Every write keeps the bookkeeping a portal keeps: defaults, dates and authors, stage semantics,
stage history, multifield ids, contact bindings, and then fires the bound events and the robots
placed on the stage the record entered.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .. import bizproc, events
from ..errors import RestError, legacy_error, legacy_not_found
from ..query import php_int
from . import stages
from .entities import COMPANY, CONTACT, DEAL, LEAD, SMART_INVOICE, EntityType, all_entities
from .fields import FieldDef, uf_from_camel
from .userfields import uf_defs, uf_rows
from .values import MULTI_TYPES, coerce, merge_multifield

if TYPE_CHECKING:
    from ..portal import Portal
    from ..registry import Ctx

_PARENT_RE = re.compile(r"^PARENT_ID_(\d+)$")
_PARENT_CAMEL_RE = re.compile(r"^parentId(\d+)$")


def field_map(portal: Portal, entity: EntityType) -> dict[str, FieldDef]:
    """Standard fields plus user fields, by UPPER name (cached until user fields change)."""
    cache: dict[Any, dict[str, FieldDef]] = portal.memo.setdefault("field_maps", {})
    key = (entity.entity_type_id, entity.type_id, portal.table("userfields").version)
    found = cache.get(key)
    if found is None:
        found = dict(entity.by_name)
        for fdef in uf_defs(portal, entity):
            found[fdef.name] = fdef
        cache[key] = found
    return found


def parent_field(portal: Portal, name: str) -> FieldDef | None:
    match = _PARENT_RE.match(name)
    if match is None:
        return None
    etid = int(match.group(1))
    if not any(e.entity_type_id == etid for e in all_entities(portal)):
        return None
    return FieldDef(name, "crm_entity", f"Parent {etid}", camel=f"parentId{etid}")


def resolve(portal: Portal, entity: EntityType, name: str, *, camel: bool) -> FieldDef | None:
    """The field a caller named, in UPPER (legacy) or camelCase (crm.item) form."""
    fields = field_map(portal, entity)
    if camel:
        fdef = entity.by_camel.get(name)
        if fdef is not None:
            return fdef
        upper = uf_from_camel(name)
        if upper is None:
            match = _PARENT_CAMEL_RE.match(name)
            upper = f"PARENT_ID_{match.group(1)}" if match else name
        name = upper
    fdef = fields.get(name)
    if fdef is None and name.startswith("PARENT_ID_"):
        fdef = parent_field(portal, name)
    return fdef


def normalise_input(
    portal: Portal, entity: EntityType, fields: dict[str, Any], *, camel: bool
) -> dict[FieldDef, Any]:
    """Known, writable fields of the input; "an incorrect field in fields will be ignored"."""
    result: dict[FieldDef, Any] = {}
    for name, value in fields.items():
        fdef = resolve(portal, entity, str(name), camel=camel)
        if fdef is None and camel:
            fdef = resolve(portal, entity, str(name), camel=False)
        if fdef is None or (fdef.read_only and fdef.name not in ("ID",)):
            continue
        if fdef.name == "ID":
            continue
        result[fdef] = value
    return result


def enum_ids(portal: Portal, entity: EntityType) -> dict[str, set[int]]:
    return {
        row["FIELD_NAME"]: {int(item["ID"]) for item in row["LIST"]}
        for row in uf_rows(portal, entity)
        if row["USER_TYPE_ID"] == "enumeration"
    }


def require_row(portal: Portal, entity: EntityType, row_id: Any, *, legacy: bool) -> dict[str, Any]:
    number = php_int(row_id)
    row = portal.table(entity.table).get(number) if number > 0 else None
    if row is None:
        if legacy:
            if number <= 0:
                raise legacy_error("ID is not defined or invalid.")
            raise legacy_not_found()
        raise RestError(400, "NOT_FOUND", f"{entity.title} not found")
    return row


def _bad_value(entity: EntityType, text: str, *, legacy: bool) -> RestError:
    if legacy:
        return legacy_error(text)
    return RestError(400, "CRM_FIELD_ERROR_VALUE_NOT_VALID", text)


def create(ctx: Ctx, entity: EntityType, fields: dict[str, Any], *, camel: bool) -> int:
    portal = ctx.portal
    values = normalise_input(portal, entity, fields, camel=camel)
    now = portal.clock.iso()
    user = ctx.caller.user_id
    row: dict[str, Any] = {"OPENED": "Y", "ASSIGNED_BY_ID": user}
    row.update(_defaults(portal, entity))
    table = portal.table(entity.table)
    _apply(portal, entity, row, values, legacy=not camel, creating=True)
    if entity.categories:
        _place_new(portal, entity, row, legacy=not camel)
    elif entity.stage_field and not row.get(entity.stage_field):
        row[entity.stage_field] = stages.stages(portal, entity, 0)[0]["STATUS_ID"]
    if entity.entity_type_id == COMPANY and not row.get("TITLE"):
        raise legacy_error('The "Company name" field is required.')
    row.update({entity.created: now, entity.updated: now, entity.created_by: user, entity.updated_by: user})
    _derive(portal, entity, row)
    row_id = table.insert(row)
    row["ID"] = row_id
    if not row.get("TITLE") and entity.entity_type_id in (DEAL, LEAD, SMART_INVOICE) or (
        entity.is_dynamic and not row.get("TITLE")
    ):
        row["TITLE"] = f"{entity.title} #{row_id}"
    if entity.entity_type_id == SMART_INVOICE and not row.get("ACCOUNT_NUMBER"):
        row["ACCOUNT_NUMBER"] = str(row_id)
    table.save(row_id, row)
    if entity.stage_field:
        _history(portal, entity, row, 1)
    events.emit_crm(ctx, entity, "ADD", row_id)
    if entity.stage_field:
        bizproc.stage_entered(ctx, entity, row)
    return row_id


def update(
    ctx: Ctx, entity: EntityType, row_id: Any, fields: dict[str, Any], *, camel: bool
) -> dict[str, Any]:
    portal = ctx.portal
    row = require_row(portal, entity, row_id, legacy=not camel)
    values = normalise_input(portal, entity, fields, camel=camel)
    before_stage = row.get(entity.stage_field) if entity.stage_field else None
    before_category = row.get("CATEGORY_ID")
    new = dict(row)
    if not camel and entity.entity_type_id == DEAL:
        values = {f: v for f, v in values.items() if f.name != "CATEGORY_ID"}  # isImmutable
    _apply(portal, entity, new, values, legacy=not camel, creating=False)
    if entity.categories:
        stage_given = any(f.name == entity.stage_field for f in values)
        _replace_stage(
            portal, entity, new, before_category, stage_given=stage_given, legacy=not camel
        )
    now = portal.clock.iso()
    new[entity.updated] = now
    new[entity.updated_by] = ctx.caller.user_id
    stage_changed = entity.stage_field is not None and new.get(entity.stage_field) != before_stage
    if stage_changed:
        new[entity.moved_time] = now
        new[entity.moved_by] = ctx.caller.user_id
        if entity.is_dynamic or entity.entity_type_id == SMART_INVOICE:
            new["PREVIOUS_STAGE_ID"] = before_stage
    _derive(portal, entity, new)
    portal.table(entity.table).save(int(row["ID"]), new)
    if stage_changed:
        moved_category = new.get("CATEGORY_ID") != before_category
        final = stages.semantic_id(stages.find_stage(portal, entity, str(new[entity.stage_field]))) != "P"
        _history(portal, entity, new, 5 if moved_category else 3 if final else 2)
        if moved_category and entity.entity_type_id == DEAL:
            events.emit(
                ctx, "ONCRMDEALMOVETOCATEGORY",
                {"FIELDS": {"ID": new["ID"], "CATEGORY_ID": new["CATEGORY_ID"], "STAGE_ID": new["STAGE_ID"]}},
                object_key=f"DEAL_{new['ID']}",
            )
    events.emit_crm(ctx, entity, "UPDATE", int(row["ID"]))
    if stage_changed:
        bizproc.stage_entered(ctx, entity, new)
    return new


def delete(ctx: Ctx, entity: EntityType, row_id: Any, *, legacy: bool) -> None:
    row = require_row(ctx.portal, entity, row_id, legacy=legacy)
    ctx.portal.table(entity.table).delete(int(row["ID"]))
    events.emit_crm(ctx, entity, "DELETE", int(row["ID"]))


def _defaults(portal: Portal, entity: EntityType) -> dict[str, Any]:
    today = portal.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    etid = entity.entity_type_id
    if etid == DEAL:
        return {
            "TYPE_ID": "SALE", "OPPORTUNITY": 0.0, "CURRENCY_ID": "RUB", "TAX_VALUE": 0.0,
            "BEGINDATE": today.isoformat(), "CLOSEDATE": (today + timedelta(days=7)).isoformat(),
            "IS_NEW": "Y", "IS_RECURRING": "N", "IS_RETURN_CUSTOMER": "N",
            "IS_REPEATED_APPROACH": "N", "IS_MANUAL_OPPORTUNITY": "N", "CLOSED": "N",
            "CONTACT_IDS": [],
        }
    if etid == LEAD:
        return {"OPPORTUNITY": 0.0, "CURRENCY_ID": "RUB", "IS_MANUAL_OPPORTUNITY": "N", "CONTACT_IDS": []}
    if etid == CONTACT:
        return {"EXPORT": "Y", "TYPE_ID": "CLIENT", "COMPANY_IDS": []}
    if etid == COMPANY:
        return {"COMPANY_TYPE": "CUSTOMER", "IS_MY_COMPANY": "N", "CURRENCY_ID": "RUB"}
    return {
        "OPPORTUNITY": 0.0, "CURRENCY_ID": "RUB", "IS_MANUAL_OPPORTUNITY": "N", "TAX_VALUE": 0.0,
        "BEGINDATE": today.isoformat(), "CLOSEDATE": (today + timedelta(days=7)).isoformat(),
        "CONTACT_IDS": [], "OBSERVERS": [],
    }


def _apply(
    portal: Portal,
    entity: EntityType,
    row: dict[str, Any],
    values: dict[FieldDef, Any],
    *,
    legacy: bool,
    creating: bool,
) -> None:
    enums = enum_ids(portal, entity)
    next_mf = lambda: portal.table("crm_multifield_ids").insert({})  # noqa: E731
    for fdef, raw in values.items():
        if fdef.type == "crm_multifield":
            row[fdef.name] = merge_multifield(fdef.name, row.get(fdef.name) or [], raw, next_mf)
            continue
        value = coerce(fdef, raw, portal.clock, enums.get(fdef.name))
        if fdef.type in ("crm_status",) and fdef.name not in ("STAGE_ID", "STATUS_ID") and value is None:
            row[fdef.name] = None
            continue
        row[fdef.name] = value
    _sync_bindings(row, values, "CONTACT_ID", "CONTACT_IDS")
    _sync_bindings(row, values, "COMPANY_ID", "COMPANY_IDS")


def _sync_bindings(row: dict[str, Any], values: dict[FieldDef, Any], single: str, many: str) -> None:
    names = {f.name for f in values}
    if many not in row and single not in names:
        return
    if many in names:
        ids = [i for i in row.get(many) or [] if i]
        row[many] = list(dict.fromkeys(ids))
        row[single] = row[many][0] if row[many] else None
    elif single in names:
        primary = row.get(single)
        rest = [i for i in row.get(many) or [] if i != primary]
        row[many] = ([primary] if primary else []) + rest


def _place_new(portal: Portal, entity: EntityType, row: dict[str, Any], *, legacy: bool) -> None:
    stage_field = entity.stage_field or "STAGE_ID"
    stage_id = row.get(stage_field)
    category = row.get("CATEGORY_ID")
    if stage_id:
        found = stages.find_stage(portal, entity, str(stage_id))
        if found is None:
            raise _bad_value(entity, f"Stage '{stage_id}' is not found", legacy=legacy)
        if category is not None and stages.stage_category(found) != category:
            raise _bad_value(entity, f"Stage '{stage_id}' belongs to another pipeline", legacy=legacy)
        row["CATEGORY_ID"] = stages.stage_category(found)
        return
    if category is None:
        category = stages.default_category(portal, entity)
    elif not stages.category_exists(portal, entity, int(category)):
        raise _bad_value(entity, f"Pipeline {category} is not found", legacy=legacy)
    row["CATEGORY_ID"] = int(category)
    row[stage_field] = stages.stages(portal, entity, int(category))[0]["STATUS_ID"]


def _replace_stage(
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
    category = row.get("CATEGORY_ID")
    moved = category != before_category
    if moved and (category is None or not stages.category_exists(portal, entity, int(category))):
        raise _bad_value(entity, f"Pipeline {category} is not found", legacy=legacy)
    found = stages.find_stage(portal, entity, str(row.get(stage_field) or ""))
    if found is not None and stages.stage_category(found) == category:
        return
    if moved and not stage_given:
        row[stage_field] = stages.stages(portal, entity, int(category))[0]["STATUS_ID"]
        return
    raise _bad_value(
        entity, f"Stage '{row.get(stage_field)}' is not found in pipeline {category}", legacy=legacy
    )


def _derive(portal: Portal, entity: EntityType, row: dict[str, Any]) -> None:
    """Fields the portal computes: stage semantics, CLOSED, HAS_PHONE/HAS_EMAIL."""
    if entity.stage_field:
        found = stages.find_stage(portal, entity, str(row.get(entity.stage_field) or ""))
        semantic = stages.semantic_id(found)
        if entity.entity_type_id == LEAD:
            row["STATUS_SEMANTIC_ID"] = semantic
        elif entity.entity_type_id == DEAL:
            row["STAGE_SEMANTIC_ID"] = semantic
            row["CLOSED"] = "N" if semantic == "P" else "Y"
    if any(t in entity.by_name for t in MULTI_TYPES):
        row["HAS_PHONE"] = "Y" if row.get("PHONE") else "N"
        row["HAS_EMAIL"] = "Y" if row.get("EMAIL") else "N"
        row["HAS_IMOL"] = "Y" if any(i.get("VALUE_TYPE") == "IMOL" for i in row.get("IM") or []) else "N"


def _history(portal: Portal, entity: EntityType, row: dict[str, Any], type_id: int) -> None:
    stage_field = entity.stage_field or "STAGE_ID"
    stage_id = str(row.get(stage_field) or "")
    semantic = stages.semantic_id(stages.find_stage(portal, entity, stage_id))
    record: dict[str, Any] = {
        "ENTITY_TYPE_ID": entity.entity_type_id,
        "TYPE_ID": type_id,
        "OWNER_ID": int(row["ID"]),
        "CREATED_TIME": portal.clock.iso(),
        "CATEGORY_ID": row.get("CATEGORY_ID"),
    }
    if entity.entity_type_id == LEAD:
        record.update(STATUS_SEMANTIC_ID=semantic, STATUS_ID=stage_id)
    else:
        record.update(STAGE_SEMANTIC_ID=semantic, STAGE_ID=stage_id)
    table = portal.table("crm_stagehistory")
    history_id = table.insert(record)
    record["ID"] = history_id
    table.save(history_id, record)

"""CRM entity types: the four classic ones, smart invoices (31) and smart processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from b24kit.emulator.errors import RestError

from .fields import FieldDef
from .schema import (
    COMPANY_FIELDS,
    CONTACT_FIELDS,
    DEAL_FIELDS,
    ITEM_FIELDS,
    LEAD_FIELDS,
    SMART_INVOICE_EXTRA,
)

if TYPE_CHECKING:
    from b24kit.emulator.portal import Portal

LEAD, DEAL, CONTACT, COMPANY, SMART_INVOICE = 1, 2, 3, 4, 31
UNSUPPORTED = {5: "INVOICE", 7: "QUOTE", 8: "REQUISITE", 14: "ORDER"}


@dataclass(frozen=True)
class EntityType:
    """Everything the emulator needs to know about one CRM entity type."""

    entity_type_id: int
    name: str  # DEAL, CONTACT, SMART_INVOICE, DYNAMIC_1038
    title: str
    abbr: str  # binding prefix: D, C, CO, L, SI, T40e
    uf_entity: str  # CRM_DEAL, CRM_7
    uf_prefix: str  # UF_CRM_ or UF_CRM_7_
    fields: tuple[FieldDef, ...]
    legacy: str | None = None  # "deal" for crm.deal.*
    stage_field: str | None = None  # STAGE_ID or STATUS_ID
    categories: bool = False
    created: str = "DATE_CREATE"
    updated: str = "DATE_MODIFY"
    created_by: str = "CREATED_BY_ID"
    updated_by: str = "MODIFY_BY_ID"
    moved_by: str = "MOVED_BY_ID"
    moved_time: str = "MOVED_TIME"
    event: str = ""  # ONCRMDEAL -> ONCRMDEALADD ...
    document_type: tuple[str, str, str] = ("crm", "", "")
    type_id: int | None = None  # crm.type id of a smart process
    by_name: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)
    by_camel: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for fdef in self.fields:
            self.by_name[fdef.name] = fdef
            self.by_camel[fdef.camel_name] = fdef

    @property
    def table(self) -> str:
        return f"crm_{self.name.lower()}"

    @property
    def is_dynamic(self) -> bool:
        return self.legacy is None

    def document_id(self, row_id: int) -> list[str]:
        module, klass, doc = self.document_type
        return [module, klass, f"{doc}_{row_id}"]

    def stage_entity(self, category_id: int) -> str:
        if self.entity_type_id == DEAL:
            return "DEAL_STAGE" if category_id == 0 else f"DEAL_STAGE_{category_id}"
        if self.entity_type_id == LEAD:
            return "STATUS"
        if self.entity_type_id == SMART_INVOICE:
            return f"SMART_INVOICE_STAGE_{category_id}"
        return f"DYNAMIC_{self.entity_type_id}_STAGE_{category_id}"

    def stage_prefix(self, category_id: int) -> str:
        if self.entity_type_id == DEAL:
            return "" if category_id == 0 else f"C{category_id}:"
        if self.entity_type_id == LEAD:
            return ""
        return f"DT{self.entity_type_id}_{category_id}:"


_STATIC = [
    EntityType(
        DEAL,
        "DEAL",
        "Deal",
        "D",
        "CRM_DEAL",
        "UF_CRM_",
        tuple(DEAL_FIELDS),
        legacy="deal",
        stage_field="STAGE_ID",
        categories=True,
        event="ONCRMDEAL",
        document_type=("crm", "CCrmDocumentDeal", "DEAL"),
    ),
    EntityType(
        CONTACT,
        "CONTACT",
        "Contact",
        "C",
        "CRM_CONTACT",
        "UF_CRM_",
        tuple(CONTACT_FIELDS),
        legacy="contact",
        event="ONCRMCONTACT",
        document_type=("crm", "CCrmDocumentContact", "CONTACT"),
    ),
    EntityType(
        COMPANY,
        "COMPANY",
        "Company",
        "CO",
        "CRM_COMPANY",
        "UF_CRM_",
        tuple(COMPANY_FIELDS),
        legacy="company",
        event="ONCRMCOMPANY",
        document_type=("crm", "CCrmDocumentCompany", "COMPANY"),
    ),
    EntityType(
        LEAD,
        "LEAD",
        "Lead",
        "L",
        "CRM_LEAD",
        "UF_CRM_",
        tuple(LEAD_FIELDS),
        legacy="lead",
        stage_field="STATUS_ID",
        event="ONCRMLEAD",
        document_type=("crm", "CCrmDocumentLead", "LEAD"),
    ),
    EntityType(
        SMART_INVOICE,
        "SMART_INVOICE",
        "Invoice",
        "SI",
        "CRM_SMART_INVOICE",
        "UF_CRM_SMART_INVOICE_",
        (*ITEM_FIELDS, *SMART_INVOICE_EXTRA),
        stage_field="STAGE_ID",
        categories=True,
        created="CREATED_TIME",
        updated="UPDATED_TIME",
        created_by="CREATED_BY",
        updated_by="UPDATED_BY",
        moved_by="MOVED_BY",
        event="ONCRMDYNAMICITEM",
        document_type=("crm", "Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice", "SMART_INVOICE"),
    ),
]
STATIC: dict[int, EntityType] = {e.entity_type_id: e for e in _STATIC}
BY_LEGACY: dict[str, EntityType] = {e.legacy: e for e in _STATIC if e.legacy}


def dynamic_entity(type_row: dict[str, Any]) -> EntityType:
    """The entity type of a smart process created with ``crm.type.add``."""
    etid = int(type_row["entityTypeId"])
    type_id = int(type_row["id"])
    return EntityType(
        etid,
        f"DYNAMIC_{etid}",
        str(type_row.get("title") or f"Smart process {etid}"),
        f"T{etid:x}",
        f"CRM_{type_id}",
        f"UF_CRM_{type_id}_",
        tuple(ITEM_FIELDS),
        stage_field="STAGE_ID",
        categories=True,
        created="CREATED_TIME",
        updated="UPDATED_TIME",
        created_by="CREATED_BY",
        updated_by="UPDATED_BY",
        moved_by="MOVED_BY",
        event="ONCRMDYNAMICITEM",
        type_id=type_id,
        document_type=("crm", "Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic", f"DYNAMIC_{etid}"),
    )


def entity_by_type_id(portal: Portal, entity_type_id: Any, *, missing: str = "SPA not found") -> EntityType:
    """Find an entity type by its ``entityTypeId``; 400 ``NOT_FOUND`` ``missing`` if unknown.

    Old invoices (5) and quotes (7) exist on a portal but are not emulated: they answer
    ``ENTITY_TYPE_NOT_SUPPORTED`` as ``crm.item.*`` does for old invoices.
    """
    try:
        etid = int(str(entity_type_id).strip())
    except (TypeError, ValueError):
        raise RestError(400, "NOT_FOUND", missing) from None
    if etid in STATIC:
        return STATIC[etid]
    if etid in UNSUPPORTED:
        raise RestError(400, "ENTITY_TYPE_NOT_SUPPORTED", f"Entity type {UNSUPPORTED[etid]} is not supported")
    found = portal.table("crm_types").lookup("entityTypeId", etid)
    if found is None:
        raise RestError(400, "NOT_FOUND", missing)
    return dynamic_entity(found[1])


def all_entities(portal: Portal) -> list[EntityType]:
    return [*_STATIC, *(dynamic_entity(row) for row in portal.table("crm_types"))]


def entity_by_abbr(portal: Portal, abbr: str) -> EntityType | None:
    for entity in all_entities(portal):
        if entity.abbr.upper() == abbr.upper():
            return entity
    return None

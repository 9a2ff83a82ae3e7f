"""A CRM field definition and the naming rules between UPPER_CASE and camelCase names."""

from __future__ import annotations

from dataclasses import dataclass

# Bitrix field type -> how the emulator stores and compares it
KIND_BY_TYPE = {
    "integer": "int",
    "user": "int",
    "employee": "int",
    "crm_company": "int",
    "crm_contact": "int",
    "crm_lead": "int",
    "crm_quote": "int",
    "crm_deal": "int",
    "crm_category": "int",
    "crm_entity": "int",
    "enumeration": "int",
    "double": "float",
    "char": "flag",
    "boolean": "bool",
    "datetime": "datetime",
    "date": "date",
    "crm_multifield": "multifield",
}
# Foreign keys: 0 means "none", so it is stored as null.
BINDING_TYPES = {"crm_company", "crm_contact", "crm_lead", "crm_quote", "crm_deal", "crm_entity"}
# docs: the LIKE filters do not work on these types; the emulator treats them as an exact match
EXACT_TYPES = {"crm_status", "crm_contact", "crm_company", "crm_multifield"}
# crm.item names that are not the plain camelCase of the stored UPPER name
CAMEL_OVERRIDES = {
    "CREATED_BY_ID": "createdBy",
    "MODIFY_BY_ID": "updatedBy",
    "DATE_CREATE": "createdTime",
    "DATE_MODIFY": "updatedTime",
    "MOVED_BY_ID": "movedBy",
    "STATUS_ID": "stageId",
    "STATUS_SEMANTIC_ID": "stageSemanticId",
    "COMPANY_TYPE": "typeId",
}


@dataclass(frozen=True)
class FieldDef:
    """One field: its UPPER_CASE storage name, Bitrix type and flags.

    ``legacy``: listed by ``crm.<entity>.fields``; ``legacy_row``: returned by
    ``crm.<entity>.get/list``; ``item``: shown by ``crm.item.*``; ``zero``: ``crm.item`` renders an
    unset value as ``0`` (``companyId``, ``contactId``), as the portal does.
    """

    name: str
    type: str = "string"
    title: str = ""
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    required: bool = False
    status_type: str | None = None
    camel: str | None = None
    legacy: bool = True
    legacy_row: bool = True
    item: bool = True
    deprecated: bool = False
    user_field: bool = False
    uf_id: int | None = None
    parent_type: int | None = None
    zero: bool = False

    @property
    def kind(self) -> str:
        return KIND_BY_TYPE.get(self.type, "str")

    @property
    def exact(self) -> bool:
        return self.type in EXACT_TYPES

    @property
    def camel_name(self) -> str:
        return self.camel or CAMEL_OVERRIDES.get(self.name) or to_camel(self.name)


def to_camel(name: str) -> str:
    """``ASSIGNED_BY_ID`` -> ``assignedById``; ``UF_CRM_1721`` -> ``ufCrm_1721``."""
    if name.startswith("UF_CRM_"):
        rest = name[len("UF_CRM_") :]
        head, _, tail = rest.partition("_")
        if head.isdecimal() and tail:
            return f"ufCrm{head}_{tail}"  # UF_CRM_7_X -> ufCrm7_X (smart processes)
        return f"ufCrm_{rest}"
    if name.startswith("PARENT_ID_"):
        return "parentId" + name[len("PARENT_ID_") :]
    words = name.lower().split("_")
    return words[0] + "".join(w.capitalize() for w in words[1:])


def uf_from_camel(name: str) -> str | None:
    """``ufCrm_X`` -> ``UF_CRM_X``, ``ufCrm7_X`` -> ``UF_CRM_7_X``; None if not a UF name."""
    if not name.startswith("ufCrm"):
        return None
    rest = name[len("ufCrm") :]
    head, sep, tail = rest.partition("_")
    if not sep or (head and not head.isdecimal()):
        return None
    return f"UF_CRM_{head}_{tail}" if head else f"UF_CRM_{tail}"


def field(name: str, type_: str = "string", title: str = "", **flags: object) -> FieldDef:
    """A field with its title defaulting to the name (as the portal does for untitled fields)."""
    return FieldDef(name, type_, title or name, **flags)  # type: ignore[arg-type]


def read_only(name: str, type_: str = "string", title: str = "", **flags: object) -> FieldDef:
    return field(name, type_, title, read_only=True, **flags)

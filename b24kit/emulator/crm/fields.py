"""Field definitions of the CRM entities, as ``crm.*.fields`` and ``crm.item.fields`` show them."""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    "enumeration": "int",
    "double": "float",
    "money": "str",
    "char": "flag",
    "boolean": "bool",
    "datetime": "datetime",
    "date": "datetime",
    "crm_multifield": "multifield",
}


@dataclass(frozen=True)
class FieldDef:
    """One field: its UPPER_CASE storage name, Bitrix type and flags."""

    name: str
    type: str = "string"
    title: str = ""
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    required: bool = False
    status_type: str | None = None
    camel: str | None = None
    legacy: bool = True  # shown by the legacy crm.<entity>.* methods
    item: bool = True  # shown by crm.item.*
    deprecated: bool = False
    user_field: bool = False
    uf_id: int | None = None

    @property
    def kind(self) -> str:
        return KIND_BY_TYPE.get(self.type, "str")

    @property
    def camel_name(self) -> str:
        return self.camel or to_camel(self.name)


def to_camel(name: str) -> str:
    """``ASSIGNED_BY_ID`` -> ``assignedById``; ``UF_CRM_1721`` -> ``ufCrm_1721``."""
    if name.startswith("UF_CRM_"):
        rest = name[len("UF_CRM_") :]
        head, _, tail = rest.partition("_")
        if head.isdigit() and tail:
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
    if not sep:
        return None
    return f"UF_CRM_{head}_{tail}" if head else f"UF_CRM_{tail}"


def _f(name: str, type_: str = "string", title: str = "", **flags: object) -> FieldDef:
    return FieldDef(name, type_, title or name.replace("_", " ").title(), **flags)  # type: ignore[arg-type]


def _ro(name: str, type_: str = "string", title: str = "", **flags: object) -> FieldDef:
    return _f(name, type_, title, read_only=True, **flags)


_UTM = [_f(n, "string", n) for n in ("UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM")]
_MULTI = [
    _f("PHONE", "crm_multifield", "Phone", multiple=True, item=False),
    _f("EMAIL", "crm_multifield", "E-mail", multiple=True, item=False),
    _f("WEB", "crm_multifield", "Website", multiple=True, item=False),
    _f("IM", "crm_multifield", "Messenger", multiple=True, item=False),
    _f("LINK", "crm_multifield", "Link", multiple=True, item=False),
]
_AUDIT = [
    _f("ASSIGNED_BY_ID", "user", "Responsible", camel="assignedById"),
    _ro("CREATED_BY_ID", "user", "Created by", camel="createdBy"),
    _ro("MODIFY_BY_ID", "user", "Modified by", camel="updatedBy"),
    _ro("DATE_CREATE", "datetime", "Created on", camel="createdTime"),
    _ro("DATE_MODIFY", "datetime", "Modified on", camel="updatedTime"),
    _ro("LAST_ACTIVITY_TIME", "datetime", "Last activity"),
    _ro("LAST_ACTIVITY_BY", "user", "Last activity by"),
]
_ORIGIN = [_f("ORIGINATOR_ID", "string", "External source"), _f("ORIGIN_ID", "string", "Item ID in data source")]

DEAL_FIELDS: list[FieldDef] = [
    _ro("ID", "integer", "ID"),
    _f("TITLE", "string", "Name"),
    _f("TYPE_ID", "crm_status", "Type", status_type="DEAL_TYPE"),
    _f("CATEGORY_ID", "crm_category", "Pipeline", immutable=True),
    _f("STAGE_ID", "crm_status", "Stage", status_type="DEAL_STAGE"),
    _ro("STAGE_SEMANTIC_ID", "string", "Stage group"),
    _ro("IS_NEW", "char", "New deal"),
    _f("IS_RECURRING", "char", "Recurring deal"),
    _f("IS_RETURN_CUSTOMER", "char", "Repeat deal"),
    _f("IS_REPEATED_APPROACH", "char", "Repeat inquiry"),
    _f("PROBABILITY", "integer", "Probability"),
    _f("CURRENCY_ID", "crm_currency", "Currency"),
    _f("OPPORTUNITY", "double", "Amount"),
    _f("IS_MANUAL_OPPORTUNITY", "char", "Manual amount"),
    _f("TAX_VALUE", "double", "Tax rate"),
    _f("COMPANY_ID", "crm_company", "Company"),
    _f("CONTACT_ID", "crm_contact", "Contact", deprecated=True),
    _f("CONTACT_IDS", "crm_contact", "Contacts", multiple=True, legacy=False),
    _f("QUOTE_ID", "crm_quote", "Quote", read_only=True),
    _f("BEGINDATE", "date", "Start date"),
    _f("CLOSEDATE", "date", "Estimated close date"),
    _f("OPENED", "char", "Available to everyone"),
    _f("CLOSED", "char", "Closed"),
    _f("COMMENTS", "string", "Comment"),
    *_AUDIT,
    _ro("MOVED_BY_ID", "user", "Moved by", camel="movedBy"),
    _ro("MOVED_TIME", "datetime", "Moved on", camel="movedTime"),
    _f("SOURCE_ID", "crm_status", "Source", status_type="SOURCE"),
    _f("SOURCE_DESCRIPTION", "string", "Source information"),
    _f("LEAD_ID", "crm_lead", "Lead", read_only=True),
    _f("ADDITIONAL_INFO", "string", "Additional information"),
    _f("LOCATION_ID", "location", "Location"),
    *_ORIGIN,
    *_UTM,
]

CONTACT_FIELDS: list[FieldDef] = [
    _ro("ID", "integer", "ID"),
    _f("HONORIFIC", "crm_status", "Salutation", status_type="HONORIFIC"),
    _f("NAME", "string", "Name"),
    _f("SECOND_NAME", "string", "Second name"),
    _f("LAST_NAME", "string", "Last name"),
    _f("PHOTO", "file", "Photo"),
    _f("BIRTHDATE", "date", "Date of birth"),
    _f("TYPE_ID", "crm_status", "Contact type", status_type="CONTACT_TYPE"),
    _f("SOURCE_ID", "crm_status", "Source", status_type="SOURCE"),
    _f("SOURCE_DESCRIPTION", "string", "Source information"),
    _f("POST", "string", "Position"),
    _f("ADDRESS", "string", "Address"),
    _f("COMMENTS", "string", "Comment"),
    _f("OPENED", "char", "Available to everyone"),
    _f("EXPORT", "char", "Included in export"),
    _ro("HAS_PHONE", "char", "Has phone"),
    _ro("HAS_EMAIL", "char", "Has e-mail"),
    _ro("HAS_IMOL", "char", "Has Open Channel"),
    *_AUDIT,
    _f("COMPANY_ID", "crm_company", "Company", deprecated=True),
    _f("COMPANY_IDS", "crm_company", "Companies", multiple=True, legacy=False),
    _f("LEAD_ID", "crm_lead", "Lead", read_only=True),
    *_ORIGIN,
    _f("ORIGIN_VERSION", "string", "Original version"),
    _ro("FACE_ID", "integer", "Face ID"),
    *_UTM,
    *_MULTI,
]

COMPANY_FIELDS: list[FieldDef] = [
    _ro("ID", "integer", "ID"),
    _f("TITLE", "string", "Company name", required=True),
    _f("COMPANY_TYPE", "crm_status", "Company type", status_type="COMPANY_TYPE"),
    _f("LOGO", "file", "Logo"),
    _f("ADDRESS", "string", "Address"),
    _f("BANKING_DETAILS", "string", "Payment details"),
    _f("INDUSTRY", "crm_status", "Industry", status_type="INDUSTRY"),
    _f("EMPLOYEES", "crm_status", "Employees", status_type="EMPLOYEES"),
    _f("CURRENCY_ID", "crm_currency", "Currency"),
    _f("REVENUE", "double", "Annual revenue"),
    _f("OPENED", "char", "Available to everyone"),
    _f("COMMENTS", "string", "Comment"),
    _ro("HAS_PHONE", "char", "Has phone"),
    _ro("HAS_EMAIL", "char", "Has e-mail"),
    _ro("HAS_IMOL", "char", "Has Open Channel"),
    _f("IS_MY_COMPANY", "char", "My company"),
    *_AUDIT,
    _f("LEAD_ID", "crm_lead", "Lead", read_only=True),
    *_ORIGIN,
    _f("ORIGIN_VERSION", "string", "Original version"),
    *_UTM,
    *_MULTI,
]

LEAD_FIELDS: list[FieldDef] = [
    _ro("ID", "integer", "ID"),
    _f("TITLE", "string", "Lead name"),
    _f("HONORIFIC", "crm_status", "Salutation", status_type="HONORIFIC"),
    _f("NAME", "string", "Name"),
    _f("SECOND_NAME", "string", "Second name"),
    _f("LAST_NAME", "string", "Last name"),
    _f("BIRTHDATE", "date", "Date of birth"),
    _f("COMPANY_TITLE", "string", "Company name"),
    _f("SOURCE_ID", "crm_status", "Source", status_type="SOURCE"),
    _f("SOURCE_DESCRIPTION", "string", "Source information"),
    _f("STATUS_ID", "crm_status", "Status", status_type="STATUS", camel="stageId"),
    _f("STATUS_DESCRIPTION", "string", "Status information"),
    _ro("STATUS_SEMANTIC_ID", "string", "Status details"),
    _f("POST", "string", "Position"),
    _f("ADDRESS", "string", "Address"),
    _f("CURRENCY_ID", "crm_currency", "Currency"),
    _f("OPPORTUNITY", "double", "Amount"),
    _f("IS_MANUAL_OPPORTUNITY", "char", "Manual amount"),
    _f("OPENED", "char", "Available to everyone"),
    _f("COMMENTS", "string", "Comment"),
    _ro("HAS_PHONE", "char", "Has phone"),
    _ro("HAS_EMAIL", "char", "Has e-mail"),
    _ro("HAS_IMOL", "char", "Has Open Channel"),
    *_AUDIT,
    _f("COMPANY_ID", "crm_company", "Company"),
    _f("CONTACT_ID", "crm_contact", "Contact", deprecated=True),
    _f("CONTACT_IDS", "crm_contact", "Contacts", multiple=True, legacy=False),
    _ro("IS_RETURN_CUSTOMER", "char", "Repeat lead"),
    _ro("DATE_CLOSED", "datetime", "Closed on"),
    *_ORIGIN,
    *_UTM,
    *_MULTI,
]

# Smart processes and smart invoices are stored under the same UPPER names; crm.item shows camel.
ITEM_FIELDS: list[FieldDef] = [
    _ro("ID", "integer", "ID"),
    _f("XML_ID", "string", "External ID"),
    _f("TITLE", "string", "Name"),
    _ro("CREATED_BY", "user", "Created by"),
    _ro("UPDATED_BY", "user", "Updated by"),
    _ro("MOVED_BY", "user", "Moved by"),
    _ro("CREATED_TIME", "datetime", "Created on"),
    _ro("UPDATED_TIME", "datetime", "Updated on"),
    _ro("MOVED_TIME", "datetime", "Moved on"),
    _f("CATEGORY_ID", "crm_category", "Pipeline"),
    _f("OPENED", "char", "Available to everyone"),
    _f("STAGE_ID", "crm_status", "Stage"),
    _ro("PREVIOUS_STAGE_ID", "crm_status", "Previous stage"),
    _f("BEGINDATE", "date", "Start date"),
    _f("CLOSEDATE", "date", "End date"),
    _f("COMPANY_ID", "crm_company", "Company"),
    _f("CONTACT_ID", "crm_contact", "Contact"),
    _f("CONTACT_IDS", "crm_contact", "Contacts", multiple=True),
    _f("OPPORTUNITY", "double", "Amount"),
    _f("IS_MANUAL_OPPORTUNITY", "char", "Manual amount"),
    _f("TAX_VALUE", "double", "Tax"),
    _f("CURRENCY_ID", "crm_currency", "Currency"),
    _f("MYCOMPANY_ID", "crm_company", "My company details"),
    _f("SOURCE_ID", "crm_status", "Source", status_type="SOURCE"),
    _f("SOURCE_DESCRIPTION", "string", "Source information"),
    _f("ASSIGNED_BY_ID", "user", "Responsible person"),
    _f("OBSERVERS", "user", "Observers", multiple=True),
]

SMART_INVOICE_EXTRA: list[FieldDef] = [
    _f("ACCOUNT_NUMBER", "string", "Invoice #"),
    _f("COMMENTS", "string", "Comment"),
    _f("LOCATION_ID", "location", "Location"),
]


def with_stage_status(fields: list[FieldDef], status_type: str) -> list[FieldDef]:
    return [replace(f, status_type=status_type) if f.name == "STAGE_ID" else f for f in fields]

"""``user.*``: the portal's employees as ``user.get``, ``current``, ``add``, ``update``, ``search`` show them.

Rows in the ``users`` table keep Bitrix field names: ``ACTIVE`` is a boolean (``user.get`` sends a
JSON boolean), ``UF_DEPARTMENT`` a list of ints, dates ISO strings in the portal offset. The
``department.*`` methods live in :mod:`.departments`, imported at the bottom for registration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from b24kit.emulator import events, seed
from b24kit.emulator.errors import RestError, error_core
from b24kit.emulator.methods.locale import locale_datetime
from b24kit.emulator.query import Condition, FieldRef, Group, Query, compile_query, flag, paginate, php_int
from b24kit.emulator.registry import Ctx, Listing, Params, method

FIELD_LABELS: dict[str, str] = {
    "ID": "ID",
    "XML_ID": "External code",
    "ACTIVE": "Activity",
    "NAME": "First Name",
    "LAST_NAME": "Last Name",
    "SECOND_NAME": "Middle Name",
    "TITLE": "User List",
    "EMAIL": "E-Mail",
    "LAST_LOGIN": "Last Authorization",
    "DATE_REGISTER": "Registration Date",
    "TIME_ZONE": "TIME_ZONE",
    "IS_ONLINE": "IS_ONLINE",
    "TIMESTAMP_X": "TIMESTAMP_X",
    "LAST_ACTIVITY_DATE": "LAST_ACTIVITY_DATE",
    "PERSONAL_GENDER": "Gender",
    "PERSONAL_PROFESSION": "Profession",
    "PERSONAL_WWW": "Homepage",
    "PERSONAL_BIRTHDAY": "Date of Birth",
    "PERSONAL_PHOTO": "Photo",
    "PERSONAL_ICQ": "ICQ",
    "PERSONAL_PHONE": "Personal Phone",
    "PERSONAL_FAX": "Fax",
    "PERSONAL_MOBILE": "Personal Mobile",
    "PERSONAL_PAGER": "Pager",
    "PERSONAL_STREET": "Residential Street",
    "PERSONAL_CITY": "Residential City",
    "PERSONAL_STATE": "State / Region",
    "PERSONAL_ZIP": "Zip Code",
    "PERSONAL_COUNTRY": "Country",
    "PERSONAL_MAILBOX": "P.O. Box",
    "PERSONAL_NOTES": "Additional Notes",
    "WORK_PHONE": "Company Phone",
    "WORK_COMPANY": "Company",
    "WORK_POSITION": "Job Title",
    "WORK_DEPARTMENT": "Department",
    "WORK_WWW": "Company Website",
    "WORK_FAX": "WORK_FAX",
    "WORK_PAGER": "WORK_PAGER",
    "WORK_STREET": "WORK_STREET",
    "WORK_MAILBOX": "WORK_MAILBOX",
    "WORK_CITY": "Work City",
    "WORK_STATE": "WORK_STATE",
    "WORK_ZIP": "WORK_ZIP",
    "WORK_COUNTRY": "WORK_COUNTRY",
    "WORK_PROFILE": "WORK_PROFILE",
    "WORK_LOGO": "WORK_LOGO",
    "WORK_NOTES": "WORK_NOTES",
    "UF_SKYPE_LINK": "Skype Chat Link",
    "UF_ZOOM": "Zoom",
    "UF_EMPLOYMENT_DATE": "Hire Date",
    "UF_TIMEMAN": "Time Tracking",
    "UF_DEPARTMENT": "Units",
    "UF_INTERESTS": "Interests",
    "UF_SKILLS": "Skills",
    "UF_WEB_SITES": "Other Websites",
    "UF_XING": "Xing",
    "UF_LINKEDIN": "LinkedIn",
    "UF_TWITTER": "Twitter",
    "UF_SKYPE": "Skype",
    "UF_DISTRICT": "District",
    "UF_PHONE_INNER": "Extension",
    "USER_TYPE": "USER_TYPE",
}
ORDER = list(FIELD_LABELS)
_KINDS = {
    "ID": "int",
    "ACTIVE": "flag",
    "IS_ONLINE": "flag",
    "UF_DEPARTMENT": "int",
    **dict.fromkeys(
        (
            "LAST_LOGIN",
            "DATE_REGISTER",
            "TIMESTAMP_X",
            "LAST_ACTIVITY_DATE",
            "PERSONAL_BIRTHDAY",
            "UF_EMPLOYMENT_DATE",
        ),
        "datetime",
    ),
}
# Writable through user.add / user.update (docs: the parameter tables of both methods).
WRITABLE = {
    name
    for name in FIELD_LABELS
    if name
    not in (
        "ID",
        "TITLE",
        "LAST_LOGIN",
        "DATE_REGISTER",
        "TIME_ZONE",
        "IS_ONLINE",
        "TIMESTAMP_X",
        "LAST_ACTIVITY_DATE",
        "USER_TYPE",
        "PERSONAL_PHOTO",
        "WORK_LOGO",
        "UF_TIMEMAN",
    )
} | {"UF_FACEBOOK"}
_DATE_ONLY = ("PERSONAL_BIRTHDAY", "UF_EMPLOYMENT_DATE")
_CONTROL = {"sort", "order", "filter", "select", "start", "admin_mode", "image_resize"}
_SEARCH_FIELDS = ("NAME", "LAST_NAME", "SECOND_NAME", "WORK_POSITION")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# -- reading -------------------------------------------------------------------------------


def resolve(name: str) -> FieldRef | None:
    upper = name.upper()
    if upper in FIELD_LABELS or upper.startswith("UF_"):
        return FieldRef(upper, _KINDS.get(upper, "str"))
    return None


def render_user(ctx: Ctx, row: Mapping[str, Any], select: list[Any] | None = None) -> dict[str, Any]:
    """A user as ``user.get`` sends it; fields without a value (``null``) are left out."""
    names = _selected(row, select)
    result: dict[str, Any] = {}
    for name in names:
        value = row.get(name)
        if value is not None:
            result[name] = _wire(ctx, name, value)
    return result


def _selected(row: Mapping[str, Any], select: list[Any] | None) -> list[str]:
    custom = [k for k in row if k.startswith("UF_") and k not in FIELD_LABELS]
    every = [*ORDER, *custom]
    if not select:
        return every
    wanted = {str(s).strip().upper() for s in select}
    chosen = set()
    if "*" in wanted:
        chosen |= {n for n in every if not n.startswith("UF_")}
    if "UF_*" in wanted:
        chosen |= {n for n in every if n.startswith("UF_")}
    chosen |= wanted & set(every)
    return [n for n in every if n in chosen]


def _wire(ctx: Ctx, name: str, value: Any) -> Any:
    clock = ctx.portal.clock
    if name == "ID":
        return str(value)
    if name == "ACTIVE":
        return flag(value) == "Y"
    if name == "IS_ONLINE":
        return flag(value)
    if name == "UF_DEPARTMENT":
        return [php_int(v) for v in value] if isinstance(value, list) else []
    if name == "TIMESTAMP_X":
        return locale_datetime(ctx.portal, value) or ""
    if name == "LAST_ACTIVITY_DATE":
        moment = clock.parse(value)
        return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")
    if _KINDS.get(name) == "datetime":
        return clock.to_portal_iso(value) or ""
    return value


def _query(ctx: Ctx, filter_: dict[str, Any], p: Params) -> Query:
    search = None
    for key in list(filter_):
        if key.upper() == "NAME_SEARCH":
            search = filter_.pop(key)
    order = {}
    sort = p.get("sort")
    if isinstance(sort, str) and resolve(sort) is not None:
        order[sort.upper()] = str(p.get("order") or "ASC")
    query = compile_query(filter_, order or {"ID": "ASC"}, resolve, ctx.portal.clock)
    if search not in (None, ""):
        query.conditions.extend(_find(ctx, str(search)))
    return query


def _top_level_filter(p: Params) -> dict[str, Any]:
    """``FILTER`` entries plus filter keys given at the top level (``{"UF_DEPARTMENT": 1}``)."""
    merged = {str(k).upper(): v for k, v in p.mapping("filter").items()}
    for key, value in p.items():
        if key not in _CONTROL:
            merged.setdefault(key.upper(), value)
    return merged


def _find(ctx: Ctx, text: str) -> list[Condition | Group]:
    """Quick search: every word starts a name, last name, second name, position or department."""
    clock = ctx.portal.clock
    groups: list[Condition | Group] = []
    for word in text.split():
        pattern = word.replace("%", "") + "%"
        members: list[Condition | Group] = [
            Condition(FieldRef(name), "=%", pattern, clock) for name in _SEARCH_FIELDS
        ]
        departments = _departments_named(ctx, pattern)
        if departments:
            members.append(Condition(FieldRef("UF_DEPARTMENT", "int"), "@", departments, clock))
        groups.append(Group(members, "OR"))
    return groups


def _departments_named(ctx: Ctx, pattern: str) -> list[int]:
    probe = Condition(FieldRef("NAME"), "=%", pattern, ctx.portal.clock)
    return [int(r["ID"]) for r in ctx.portal.table("departments") if probe.matches(r)]


def _page(ctx: Ctx, query: Query, p: Params) -> Listing:
    page = paginate(ctx.portal.table("users"), query, p.get("start"), ctx.portal.cache)
    select = p.items_list("select")
    return Listing([render_user(ctx, row, select) for row in page.rows], page.total, page.next)


@method("user.get", scope="user")
def user_get(ctx: Ctx, p: Params) -> Listing:
    return _page(ctx, _query(ctx, _top_level_filter(p), p), p)


@method("user.search", scope="user")
def user_search(ctx: Ctx, p: Params) -> Listing:
    """``FILTER`` with ``FIND`` (all personal fields) or with named fields, each a right LIKE.

    With ``FIND`` present the named search fields are ignored (the docs allow one mode only).
    """
    filter_ = _top_level_filter(p)
    find = filter_.pop("FIND", None)
    named = {k: filter_.pop(k) for k in [*_SEARCH_FIELDS, "UF_DEPARTMENT_NAME"] if k in filter_}
    query = _query(ctx, filter_, p)
    clock = ctx.portal.clock
    if find not in (None, ""):
        query.conditions.extend(_find(ctx, str(find)))
    else:
        for name, value in named.items():
            pattern = str(value).replace("%", "") + "%"
            if name == "UF_DEPARTMENT_NAME":
                found = _departments_named(ctx, pattern) or [0]
                query.conditions.append(Condition(FieldRef("UF_DEPARTMENT", "int"), "@", found, clock))
            else:
                query.conditions.append(Condition(FieldRef(name), "=%", pattern, clock))
    return _page(ctx, query, p)


@method("user.current", scope="user")
def user_current(ctx: Ctx, p: Params) -> dict[str, Any]:
    row = ctx.portal.table("users").get(ctx.caller.user_id)
    if row is None:
        raise RestError(401, "NO_AUTH_FOUND", "Wrong authorization data")
    return render_user(ctx, row)


@method("user.fields", scope="user")
def user_fields(ctx: Ctx, p: Params) -> dict[str, str]:
    return dict(FIELD_LABELS)


# -- writing -------------------------------------------------------------------------------


def _argument(description: str) -> RestError:
    return RestError(400, "ERROR_ARGUMENT", description, argument="")


def _values(ctx: Ctx, p: Params) -> dict[str, Any]:
    """The writable fields of the call, coerced to storage types."""
    values: dict[str, Any] = {}
    for key, raw in p.items():
        name = key.upper()
        if name not in WRITABLE and not name.startswith("UF_USR_"):
            continue
        if name == "ACTIVE":
            values[name] = flag(raw) == "Y"
        elif name == "UF_DEPARTMENT":
            values[name] = _department_ids(ctx, raw)
        elif name in _DATE_ONLY:
            values[name] = _date(ctx, name, raw)
        elif name.startswith("UF_USR_"):
            values[name] = raw
        elif isinstance(raw, dict | list):
            raise error_core(f"Field {name} must be a string.")
        else:
            values[name] = "" if raw is None else str(raw).strip() if name == "EMAIL" else str(raw)
    return values


def _department_ids(ctx: Ctx, raw: Any) -> list[int]:
    items = list(raw.values()) if isinstance(raw, Mapping) else raw if isinstance(raw, list) else [raw]
    ids = [php_int(v) for v in items if v not in (None, "")]
    departments = ctx.portal.table("departments")
    if any(departments.get(i) is None for i in ids):
        raise error_core("")  # docs: ERROR_CORE with an empty text, "error updating user fields"
    return ids


def _date(ctx: Ctx, name: str, raw: Any) -> str:
    if raw in (None, ""):
        return ""
    moment = ctx.portal.clock.parse(raw)
    if moment is None:
        raise error_core(f"Field {name}: wrong date {str(raw)[:40]!r}.")
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).isoformat()


def _email_taken(ctx: Ctx, email: str, except_id: int = 0) -> bool:
    wanted = email.casefold()
    return any(
        str(u.get("EMAIL") or "").casefold() == wanted and u["ID"] != except_id
        for u in ctx.portal.table("users")
    )


@method("user.add", scope="user")
def user_add(ctx: Ctx, p: Params) -> int:
    if not ctx.portal.is_admin(ctx.caller.user_id):
        raise error_core("access_denied")
    email = p.get("email")
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise _argument("wrong_email")
    if _email_taken(ctx, email.strip()):
        raise _argument("A user with this email already exists")
    extranet = flag(p.get("extranet", "N")) == "Y"
    values = _values(ctx, p)
    if extranet:
        groups = p.items_list("sonet_group_id")
        if not groups:
            raise RestError(400, "ERROR_GROUPID", "Group code not specified")
        known = ctx.portal.table("sonet_groups")
        if any(known.get(php_int(g)) is None for g in groups):
            raise RestError(400, "ERROR_NO_GROUP", "Group is specified incorrectly")
        values.update(UF_DEPARTMENT=[], USER_TYPE="extranet", SONET_GROUP_ID=[php_int(g) for g in groups])
    elif not values.get("UF_DEPARTMENT"):
        raise _argument("no_extranet_field")
    now = ctx.portal.clock.iso()
    values.setdefault("ACTIVE", True)
    values.update(LAST_LOGIN=None, DATE_REGISTER=now, TIMESTAMP_X=now, LOGIN=values["EMAIL"])
    user_id = seed.add_user(ctx.portal, values)
    row = ctx.portal.table("users").get(user_id) or {}
    events.emit(ctx, "ONUSERADD", _event_data(row), object_key=f"USER_{user_id}")
    return user_id


def _event_data(row: Mapping[str, Any]) -> dict[str, Any]:
    """``ONUSERADD`` ``data``: the user, with dates as the event page shows them."""
    return {
        "ID": row["ID"],
        "ACTIVE": flag(row.get("ACTIVE")),
        "EMAIL": row.get("EMAIL", ""),
        "NAME": row.get("NAME", ""),
        "LAST_NAME": row.get("LAST_NAME", ""),
        "PERSONAL_GENDER": row.get("PERSONAL_GENDER", ""),
        "PERSONAL_BIRTHDAY": str(row.get("PERSONAL_BIRTHDAY") or "")[:10],
        "UF_DEPARTMENT": list(row.get("UF_DEPARTMENT") or []),
        "DATE_REGISTER": row.get("DATE_REGISTER"),
        "WORK_POSITION": row.get("WORK_POSITION", ""),
        "UF_EMPLOYMENT_DATE": str(row.get("UF_EMPLOYMENT_DATE") or "")[:10],
    }


@method("user.update", scope="user")
def user_update(ctx: Ctx, p: Params) -> bool:
    users = ctx.portal.table("users")
    user_id = php_int(p.get("id"))
    row = users.get(user_id) if user_id > 0 else None
    if row is None or not ctx.portal.is_admin(ctx.caller.user_id):
        raise error_core("access_denied")  # docs: the same answer for a bad ID and for no rights
    values = _values(ctx, p)
    if "EMAIL" in values:
        if not _EMAIL.match(values["EMAIL"]):
            raise error_core("wrong_email")
        if _email_taken(ctx, values["EMAIL"], except_id=user_id):
            raise error_core("A user with this email already exists")
    updated = {**row, **values, "TIMESTAMP_X": ctx.portal.clock.iso()}
    if updated.get("USER_TYPE") != "extranet":
        updated["USER_TYPE"] = "employee"
    users.save(user_id, updated)
    return True


from b24kit.emulator.methods import departments as _departments  # noqa: E402, F401 - registers department.*

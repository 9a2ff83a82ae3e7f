"""A fresh portal (what a new Bitrix24 looks like) and the ``--seed demo`` data set.

State conventions every method module follows: rows use the portal's UPPER_CASE field names
and native types (ints, floats, ``"Y"``/``"N"`` flags, ISO dates in the portal offset);
renderers turn them into each method family's wire types.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from .crm import records, stages
from .crm.entities import COMPANY, CONTACT, DEAL, SMART_INVOICE, STATIC

if TYPE_CHECKING:
    from .portal import Portal

CURRENCIES = [
    {
        "CURRENCY": "RUB",
        "AMOUNT_CNT": 1,
        "AMOUNT": "1.0000",
        "BASE": "Y",
        "SORT": 100,
        "FULL_NAME": "Russian Ruble",
    },
    {
        "CURRENCY": "USD",
        "AMOUNT_CNT": 1,
        "AMOUNT": "90.0000",
        "BASE": "N",
        "SORT": 200,
        "FULL_NAME": "US Dollar",
    },
    {"CURRENCY": "EUR", "AMOUNT_CNT": 1, "AMOUNT": "98.0000", "BASE": "N", "SORT": 300, "FULL_NAME": "Euro"},
]


def add_user(portal: Portal, fields: dict[str, Any]) -> int:
    """Insert a user row with the portal's defaults (used by the seed and ``user.add``)."""
    now = portal.clock.iso()
    row: dict[str, Any] = {
        "ACTIVE": True,
        "NAME": "",
        "LAST_NAME": "",
        "SECOND_NAME": "",
        "EMAIL": "",
        "LAST_LOGIN": None,
        "DATE_REGISTER": now,
        "TIME_ZONE": "",
        "IS_ONLINE": "N",
        "TIMESTAMP_X": now,
        "LAST_ACTIVITY_DATE": None,
        "PERSONAL_GENDER": "",
        "PERSONAL_BIRTHDAY": "",
        "PERSONAL_MOBILE": "",
        "PERSONAL_PHONE": "",
        "PERSONAL_CITY": "",
        "WORK_POSITION": "",
        "WORK_PHONE": "",
        "UF_EMPLOYMENT_DATE": "",
        "UF_DEPARTMENT": [],
        "UF_PHONE_INNER": "",
        "USER_TYPE": "employee",
        "XML_ID": None,
        "IS_ADMIN": False,
    }
    row.update(fields)
    table = portal.table("users")
    user_id = table.insert(row)
    row["ID"] = user_id
    table.save(user_id, row)
    return user_id


def add_department(portal: Portal, name: str, parent: int | None, head: int | None, sort: int = 500) -> int:
    table = portal.table("departments")
    row: dict[str, Any] = {"NAME": name, "SORT": sort, "PARENT": parent, "UF_HEAD": head}
    dep_id = table.insert(row)
    row["ID"] = dep_id
    table.save(dep_id, row)
    return dep_id


def add_storage(portal: Portal, name: str, code: str | None, entity_type: str, entity_id: str) -> int:
    storages = portal.table("disk_storages")
    row: dict[str, Any] = {
        "NAME": name,
        "CODE": code,
        "MODULE_ID": "disk",
        "ENTITY_TYPE": entity_type,
        "ENTITY_ID": entity_id,
        "ROOT_OBJECT_ID": None,
    }
    storage_id = storages.insert(row)
    now = portal.clock.iso()
    folder = {
        "NAME": name,
        "CODE": None,
        "STORAGE_ID": storage_id,
        "TYPE": "folder",
        "PARENT_ID": None,
        "DELETED_TYPE": 0,
        "CREATE_TIME": now,
        "UPDATE_TIME": now,
        "DELETE_TIME": None,
        "CREATED_BY": 1,
        "UPDATED_BY": 1,
        "DELETED_BY": None,
    }
    objects = portal.table("disk_objects")
    root_id = objects.insert(folder)
    folder["ID"] = folder["REAL_OBJECT_ID"] = root_id
    objects.save(root_id, folder)
    row.update(ID=storage_id, ROOT_OBJECT_ID=root_id)
    storages.save(storage_id, row)
    return storage_id


def fresh_portal(portal: Portal) -> None:
    """Administrator (user 1), the root department, the default pipelines, currencies, drives."""
    portal.meta()
    add_department(portal, "Company", None, 1, sort=500)
    add_user(
        portal,
        {
            "NAME": "Admin",
            "LAST_NAME": "Portal",
            "EMAIL": "admin@example.com",
            "WORK_POSITION": "Administrator",
            "UF_DEPARTMENT": [1],
            "IS_ADMIN": True,
            "LAST_LOGIN": portal.clock.iso(),
        },
    )
    stages.create_category(portal, STATIC[DEAL], "General", sort=300, is_default=True, category_id=0)
    stages.create_category(portal, STATIC[SMART_INVOICE], "Invoices", sort=500, is_default=True)
    for index, (code, title, semantics, color, system) in enumerate(stages.LEAD_STATUSES):
        stages.add_status(
            portal,
            "STATUS",
            code,
            title,
            sort=(index + 1) * 10,
            semantics=semantics,
            color=color,
            system=system,
        )
    stages.seed_reference_lists(portal)
    for currency in CURRENCIES:
        portal.table("currencies").insert(dict(currency))
    add_storage(portal, "Shared drive", "shared_files", "common", "shared_files_s1")
    add_storage(portal, "Admin Portal", None, "user", "1")


_FIRST = ["Анна", "Иван", "Мария", "Олег", "Елена", "Дмитрий", "Ольга", "Сергей", "Наталья", "Павел"]
_LAST = [
    "Смирнов",
    "Иванов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
]
_COMPANIES = [
    ("Вектор", "7701234567"),
    ("Северсталь-Сервис", "7802345678"),
    ("Альфа Логистик", "5403456789"),
    ("ТехноПром", "6604567890"),
    ("Гранит", "1605678901"),
    ("Меридиан", "2306789012"),
    ("Орбита", "3907890123"),
    ("Полимер-Трейд", "5008901234"),
    ("Энергосбыт Плюс", "6309012345"),
    ("Ника Фуд", "7710123456"),
    ("Стройинвест", "7811234560"),
    ("Диалог ИТ", "5412345601"),
]


def _female(last: str) -> str:
    return last + "а" if last.endswith(("ов", "ев", "ин")) else last


def demo_data(portal: Portal) -> None:
    """A believable small portal: departments, users, companies with INN, contacts, deals."""
    rng = random.Random(24)
    ctx = portal.ctx(1)
    departments = {
        name: add_department(portal, name, 1, None, sort=(i + 1) * 100)
        for i, name in enumerate(["Sales", "Production", "Finance", "IT"])
    }
    users: list[int] = []
    for index in range(8):
        first = _FIRST[index % len(_FIRST)]
        female = first.endswith("а") or first in ("Мария",)
        last = _LAST[index]
        dep = list(departments.values())[index % 4]
        users.append(
            add_user(
                portal,
                {
                    "NAME": first,
                    "LAST_NAME": _female(last) if female else last,
                    "EMAIL": f"user{index + 2}@example.com",
                    "WORK_POSITION": "Manager",
                    "UF_DEPARTMENT": [dep],
                    "PERSONAL_GENDER": "F" if female else "M",
                },
            )
        )
    inn_field = records.resolve(portal, STATIC[COMPANY], "UF_CRM_INN", camel=False)
    if inn_field is None:
        from .crm.userfields import add_userfield

        inn_definition = {"FIELD_NAME": "INN", "USER_TYPE_ID": "string", "LABEL": "INN"}
        add_userfield(portal, STATIC[COMPANY], inn_definition)
    company_ids = []
    for index, (title, inn) in enumerate(_COMPANIES):
        company_ids.append(
            records.create(
                ctx,
                STATIC[COMPANY],
                {
                    "TITLE": f"ООО «{title}»",
                    "UF_CRM_INN": inn,
                    "ASSIGNED_BY_ID": users[index % len(users)],
                    "PHONE": [{"VALUE": f"+7495{1000000 + index * 7919:07d}", "VALUE_TYPE": "WORK"}],
                    "EMAIL": [{"VALUE": f"info@company{index + 1}.example", "VALUE_TYPE": "WORK"}],
                },
                camel=False,
            )
        )
    contact_ids = []
    for index in range(30):
        first = _FIRST[index % len(_FIRST)]
        last = _LAST[(index * 3) % len(_LAST)]
        if first.endswith(("а", "я")):
            last = _female(last)
        contact_ids.append(
            records.create(
                ctx,
                STATIC[CONTACT],
                {
                    "NAME": first,
                    "LAST_NAME": last,
                    "POST": rng.choice(["Директор", "Бухгалтер", "Менеджер"]),
                    "COMPANY_ID": company_ids[index % len(company_ids)],
                    "ASSIGNED_BY_ID": users[index % len(users)],
                    "PHONE": [
                        {"VALUE": f"+7916{2000000 + index * 104729 % 8000000:07d}", "VALUE_TYPE": "MOBILE"}
                    ],
                    "EMAIL": [{"VALUE": f"contact{index + 1}@mail.example", "VALUE_TYPE": "WORK"}],
                },
                camel=False,
            )
        )
    stage_ids = [s["STATUS_ID"] for s in stages.stages(portal, STATIC[DEAL], 0)]
    for index in range(40):
        company = company_ids[index % len(company_ids)]
        records.create(
            ctx,
            STATIC[DEAL],
            {
                "TITLE": f"Поставка №{1000 + index}",
                "STAGE_ID": rng.choice(stage_ids[:5] * 3 + stage_ids[5:]),
                "OPPORTUNITY": rng.randrange(50, 2000) * 1000,
                "CURRENCY_ID": "RUB",
                "COMPANY_ID": company,
                "CONTACT_ID": contact_ids[index % len(contact_ids)],
                "ASSIGNED_BY_ID": users[index % len(users)],
            },
            camel=False,
        )

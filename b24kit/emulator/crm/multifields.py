"""Multifields (PHONE, EMAIL, WEB, IM, LINK): the documented write rules and the crm.item views.

Stored on the record under their type name as ``[{"ID": 156, "VALUE_TYPE": "WORK", "VALUE":
"+13333333555", "TYPE_ID": "PHONE"}, ...]``; the ids come from one portal-wide sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from b24kit.emulator.query import flag, php_int

from .values import MULTI_TYPES

NextId = Callable[[], int]
_DEFAULT_VALUE_TYPE = {"PHONE": "WORK", "EMAIL": "WORK", "WEB": "WORK", "IM": "OTHER", "LINK": "USER"}
# crm.item flat aliases: name -> (type, value type or None for "any"), per crm-item-get.md
_ALIASES: dict[str, tuple[str, str | None]] = {
    "phoneMobile": ("PHONE", "MOBILE"),
    "phoneWork": ("PHONE", "WORK"),
    "phoneMailing": ("PHONE", "MAILING"),
    "emailHome": ("EMAIL", "HOME"),
    "emailWork": ("EMAIL", "WORK"),
    "emailMailing": ("EMAIL", "MAILING"),
    "skype": ("IM", "SKYPE"),
    "icq": ("IM", "ICQ"),
    "imol": ("IM", "IMOL"),
    "email": ("EMAIL", None),
    "phone": ("PHONE", None),
}
_NULL_WHEN_EMPTY = {"skype", "icq"}


def entries(value: Any) -> list[dict[str, Any]]:
    """Multifield input given as a list, or an object keyed ``n0``/``0``, of dicts."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, dict)]


def merge(type_id: str, current: list[dict[str, Any]], value: Any, next_id: NextId) -> list[dict[str, Any]]:
    """The legacy write rules (``crm-contact-update.md``) for one multifield type.

    An entry without ``ID`` adds a value (an existing number sent again is a duplicate); an entry
    with the ``ID`` of a current value changes it, or deletes it when it has ``DELETE=Y``, an empty
    ``VALUE`` or no ``VALUE`` at all; values not mentioned are kept; unknown ids are ignored.
    """
    result = [dict(item) for item in current]
    for entry in entries(value):
        entry_id = php_int(entry.get("ID", 0))
        if entry_id:
            _change(result, entry_id, entry.get("VALUE"), entry.get("VALUE_TYPE"), entry.get("DELETE"))
        else:
            _add(result, type_id, entry.get("VALUE"), entry.get("VALUE_TYPE"), next_id)
    return result


def _change(items: list[dict[str, Any]], entry_id: int, text: Any, value_type: Any, delete: Any) -> None:
    for index, item in enumerate(items):
        if item["ID"] != entry_id:
            continue
        if flag(delete or "N") == "Y" or text is None or str(text).strip() == "":
            del items[index]
        else:
            item["VALUE"] = str(text).strip()
            if value_type not in (None, ""):
                item["VALUE_TYPE"] = str(value_type).upper()
        return


def _add(items: list[dict[str, Any]], type_id: str, text: Any, value_type: Any, next_id: NextId) -> None:
    value = "" if text is None else str(text).strip()
    if not value:
        return
    kind = str(value_type).upper() if value_type not in (None, "") else _DEFAULT_VALUE_TYPE[type_id]
    items.append({"ID": next_id(), "VALUE_TYPE": kind, "VALUE": value, "TYPE_ID": type_id})


def merge_fm(row: dict[str, Any], value: Any, next_id: NextId) -> dict[str, list[dict[str, Any]]]:
    """``crm.item`` ``fm`` writes: key ``n0`` adds, a numeric key (or ``id``) changes or deletes.

    Returns the new lists of the types that changed.
    """
    lists = {name: [dict(i) for i in row.get(name) or []] for name in MULTI_TYPES}
    pairs = value.items() if isinstance(value, dict) else enumerate(value if isinstance(value, list) else [])
    for key, entry in pairs:
        if not isinstance(entry, dict):
            continue
        entry_id = php_int(entry.get("id", key if str(key).isdecimal() and isinstance(value, dict) else 0))
        text, value_type = entry.get("value"), entry.get("valueType")
        if entry_id:
            for items in lists.values():
                _change(items, entry_id, text, value_type, None)
            continue
        type_id = str(entry.get("typeId") or "").upper()
        if type_id in lists:
            _add(lists[type_id], type_id, text, value_type, next_id)
    return {name: items for name, items in lists.items() if items != (row.get(name) or [])}


def fm_view(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``fm`` array of ``crm.item.get``: every multifield value, numeric ids."""
    return [
        {"id": v["ID"], "valueType": v["VALUE_TYPE"], "value": v["VALUE"], "typeId": v["TYPE_ID"]}
        for name in MULTI_TYPES
        for v in row.get(name) or []
    ]


def aliases(row: dict[str, Any]) -> dict[str, Any]:
    """The flat ``crm.item`` aliases: the first value of each type and value type."""
    result: dict[str, Any] = {}
    for alias, (type_id, value_type) in _ALIASES.items():
        found = [
            v["VALUE"] for v in row.get(type_id) or [] if value_type is None or v["VALUE_TYPE"] == value_type
        ]
        result[alias] = found[0] if found else (None if alias in _NULL_WHEN_EMPTY else "")
    return result


def derive_flags(row: dict[str, Any]) -> None:
    """``HAS_PHONE``, ``HAS_EMAIL``, ``HAS_IMOL`` from the stored multifields."""
    row["HAS_PHONE"] = "Y" if row.get("PHONE") else "N"
    row["HAS_EMAIL"] = "Y" if row.get("EMAIL") else "N"
    row["HAS_IMOL"] = "Y" if any(i.get("VALUE_TYPE") == "IMOL" for i in row.get("IM") or []) else "N"

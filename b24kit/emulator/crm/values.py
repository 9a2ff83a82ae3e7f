"""Values in and out: coerce what callers send, render what each method family returns.

Legacy ``crm.<entity>.*`` methods answer with strings everywhere (``"ID": "410"``,
``"OPPORTUNITY": "1000000.00"``); ``crm.item.*`` answers with native numbers. Both keep ``Y``/``N``
flags and ISO dates in the portal's offset. Date-only fields are stored as ``YYYY-MM-DD`` and
rendered as midnight UTC in the portal's offset, as the docs' examples show them
(``"BEGINDATE": "2024-08-30T02:00:00+02:00"``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from b24kit.emulator.query import flag, php_float, php_int, to_date

from .fields import BINDING_TYPES, FieldDef

if TYPE_CHECKING:
    from b24kit.emulator.clock import Clock

MONEY_FIELDS = {"OPPORTUNITY", "TAX_VALUE", "REVENUE"}
MULTI_TYPES = ("PHONE", "EMAIL", "WEB", "IM", "LINK")


def as_list(value: Any) -> list[Any]:
    """A PHP array given as a list, an object keyed by index, or a single value."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return [] if value in (None, "") else [value]


def coerce(fdef: FieldDef, value: Any, clock: Clock, enum_ids: set[int] | None = None) -> Any:
    """The stored form of ``value`` for ``fdef``; ``None`` for empty or unreadable input."""
    if fdef.multiple and fdef.type != "crm_multifield":
        coerced = [coerce_one(fdef, v, clock, enum_ids) for v in as_list(value)]
        return list(dict.fromkeys(v for v in coerced if v is not None))
    if isinstance(value, list | dict):
        values = list(value.values()) if isinstance(value, dict) else value
        value = values[0] if values else None
    return coerce_one(fdef, value, clock, enum_ids)


def coerce_one(fdef: FieldDef, value: Any, clock: Clock, enum_ids: set[int] | None = None) -> Any:
    kind = fdef.kind
    if value is None or isinstance(value, list | dict) or (value == "" and kind != "flag"):
        return None
    if fdef.type == "enumeration":
        enum_id = php_int(value)
        return enum_id if enum_ids is None or enum_id in enum_ids else None
    if fdef.user_field and fdef.type in ("crm", "money", "url", "address", "file", "iblock_element"):
        return str(value)
    if kind == "int":
        number = php_int(value)
        if number == 0 and (fdef.type in BINDING_TYPES or fdef.type in ("user", "employee")):
            return None
        return number
    if kind == "float":
        amount = php_float(value)
        return round(amount, 2) if fdef.name in MONEY_FIELDS else amount
    if kind == "flag":
        return flag(value)
    if kind == "bool":
        return 1 if flag(value) == "Y" or php_int(value) else 0
    if kind == "datetime":
        return clock.to_portal_iso(value)
    if kind == "date":
        return to_date(clock, value)
    return str(value)


def render_date(value: Any, clock: Clock | None) -> Any:
    """``YYYY-MM-DD`` -> midnight UTC in the portal's offset (``2024-08-30T03:00:00+03:00``)."""
    if clock is None or not isinstance(value, str) or len(value) != 10:
        return value
    return _midnight_utc(value, clock.tz)


@lru_cache(maxsize=4096)
def _midnight_utc(value: str, tz: tzinfo) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return datetime(day.year, day.month, day.day, tzinfo=UTC).astimezone(tz).isoformat()


def number(value: float) -> int | float:
    """A float as PHP's JSON encoder writes it in these answers: ``100`` rather than ``100.0``."""
    return int(value) if float(value).is_integer() else value


def render_legacy(fdef: FieldDef, value: Any, clock: Clock | None = None) -> Any:
    """The legacy wire form: strings (money as ``"1000.00"``), ``null`` when unset."""
    if value is None:
        return [] if fdef.multiple and fdef.user_field else None
    if fdef.type == "crm_multifield":
        return [
            {"ID": str(v["ID"]), "VALUE_TYPE": v["VALUE_TYPE"], "VALUE": v["VALUE"], "TYPE_ID": v["TYPE_ID"]}
            for v in value
        ]
    if isinstance(value, list):
        return [_legacy_scalar(fdef, v, clock) for v in value]
    return _legacy_scalar(fdef, value, clock)


def _legacy_scalar(fdef: FieldDef, value: Any, clock: Clock | None) -> Any:
    kind = fdef.kind
    if kind == "float":
        return f"{float(value):.2f}" if fdef.name in MONEY_FIELDS else _trim_float(float(value))
    if kind == "bool":
        return "1" if value else "0"
    if kind == "date":
        return render_date(value, clock)
    return str(value)


def _trim_float(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def render_item(fdef: FieldDef, value: Any, clock: Clock | None = None) -> Any:
    """The ``crm.item`` wire form: native numbers, ``Y``/``N`` booleans, ``[]`` for empty lists."""
    if value is None:
        if fdef.multiple:
            return []
        return 0 if fdef.zero else None
    if isinstance(value, list):
        return [_item_scalar(fdef, v, clock) for v in value]
    return _item_scalar(fdef, value, clock)


def _item_scalar(fdef: FieldDef, value: Any, clock: Clock | None) -> Any:
    kind = fdef.kind
    if kind == "bool":
        return "Y" if value else "N"
    if kind == "float" and isinstance(value, float):
        return number(value)
    if kind == "date":
        return render_date(value, clock)
    return value

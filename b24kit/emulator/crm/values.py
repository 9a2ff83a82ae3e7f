"""Values in and out: coerce what callers send, render what each method family returns.

Legacy ``crm.<entity>.*`` methods answer with strings everywhere (``"ID": "410"``,
``"OPPORTUNITY": "1000000.00"``); ``crm.item.*`` answers with native numbers. Both keep ``Y``/``N``
flags and ISO dates in the portal's offset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..query import flag, php_float, php_int
from .fields import FieldDef

if TYPE_CHECKING:
    from ..clock import Clock

MONEY_FIELDS = {"OPPORTUNITY", "TAX_VALUE", "REVENUE"}
MULTI_TYPES = {"PHONE", "EMAIL", "WEB", "IM", "LINK"}


def coerce(fdef: FieldDef, value: Any, clock: Clock, enum_ids: set[int] | None = None) -> Any:
    """The stored form of ``value`` for ``fdef``; ``None`` for empty or unreadable input."""
    if fdef.multiple and fdef.type != "crm_multifield":
        items = list(value.values()) if isinstance(value, dict) else value
        if not isinstance(items, list):
            items = [] if items in (None, "") else [items]
        coerced = [coerce_one(fdef, v, clock, enum_ids) for v in items]
        return [v for v in coerced if v is not None]
    if isinstance(value, list | dict):
        values = list(value.values()) if isinstance(value, dict) else value
        value = values[0] if values else None
    return coerce_one(fdef, value, clock, enum_ids)


def coerce_one(fdef: FieldDef, value: Any, clock: Clock, enum_ids: set[int] | None = None) -> Any:
    if value is None or (value == "" and fdef.kind != "flag"):
        return None
    if isinstance(value, list | dict):
        return None
    kind = fdef.kind
    if fdef.type == "enumeration":
        enum_id = php_int(value)
        return enum_id if enum_ids is None or enum_id in enum_ids else None
    if fdef.type == "crm" and fdef.user_field:
        return str(value)
    if kind == "int":
        number = php_int(value)
        return number if number or str(value).strip() in ("0", "0.0") else None
    if kind == "float":
        return round(php_float(value), 2) if fdef.name in MONEY_FIELDS else php_float(value)
    if kind == "flag":
        return flag(value)
    if kind == "bool":
        return 1 if flag(value) == "Y" else 0
    if kind == "datetime":
        moment = clock.parse(value)
        if moment is None:
            return None
        if fdef.type == "date":
            moment = moment.replace(hour=0, minute=0, second=0)
        return moment.replace(microsecond=0).isoformat()
    return str(value)


def render_legacy(fdef: FieldDef, value: Any) -> Any:
    if value is None:
        return None if not fdef.multiple else ([] if fdef.user_field else None)
    if fdef.type == "crm_multifield":
        return [
            {"ID": str(v["ID"]), "VALUE_TYPE": v["VALUE_TYPE"], "VALUE": v["VALUE"], "TYPE_ID": v["TYPE_ID"]}
            for v in value
        ]
    if isinstance(value, list):
        return [_legacy_scalar(fdef, v) for v in value]
    return _legacy_scalar(fdef, value)


def _legacy_scalar(fdef: FieldDef, value: Any) -> Any:
    if fdef.kind == "float":
        return f"{float(value):.2f}" if fdef.name in MONEY_FIELDS else _trim_float(float(value))
    if fdef.kind == "bool":
        return "1" if value else "0"
    return str(value)


def _trim_float(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def render_item(fdef: FieldDef, value: Any) -> Any:
    if value is None:
        return [] if fdef.multiple else None
    if fdef.kind == "bool":
        return "Y" if value else "N"
    return value


def multifield_items(value: Any) -> list[dict[str, Any]]:
    """Multifield input given as a list, or an object keyed ``n0``/``0``, of dicts."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, dict)]


def merge_multifield(
    type_id: str, current: list[dict[str, Any]], value: Any, next_id: Any
) -> list[dict[str, Any]]:
    """Apply the documented write rules: no ID adds, ID + VALUE changes, DELETE=Y/empty removes."""
    result = [dict(item) for item in current]
    by_id = {item["ID"]: item for item in result}
    for entry in multifield_items(value):
        if "ID" in entry and php_int(entry.get("ID")) in by_id:
            target = by_id[php_int(entry["ID"])]
            text = entry.get("VALUE")
            if flag(entry.get("DELETE", "N")) == "Y" or text in (None, ""):
                result.remove(target)
                del by_id[target["ID"]]
                continue
            target["VALUE"] = str(text).strip()
            target["VALUE_TYPE"] = str(entry.get("VALUE_TYPE") or target["VALUE_TYPE"]).upper()
        elif "ID" not in entry or php_int(entry.get("ID")) == 0:
            text = str(entry.get("VALUE") or "").strip()
            if not text:
                continue
            item = {
                "ID": next_id(),
                "VALUE_TYPE": str(entry.get("VALUE_TYPE") or "WORK").upper(),
                "VALUE": text,
                "TYPE_ID": type_id,
            }
            result.append(item)
            by_id[item["ID"]] = item
    return result

"""Pure helpers on field values: dotted paths, JSON-safe forms, emptiness and loose equality."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Final

MISSING: Final = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()
"""A field that is absent from a record (as opposed to present and empty)."""


def get_path(fields: Mapping[str, Any], path: str) -> Any:
    """The value at ``path``: an exact key first, then a dotted walk (``fields.status.name``)."""
    if path in fields:
        return fields[path]
    node: Any = fields
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and part.isdecimal():
            index = int(part)
            if index >= len(node):
                return MISSING
            node = node[index]
        else:
            return MISSING
    return node


def is_empty(value: Any) -> bool:
    """``None``, ``MISSING``, blank strings and empty collections count as empty."""
    if value is None or value is MISSING:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return len(value) == 0
    return False


def jsonable(value: Any) -> Any:
    """The value in JSON types: dates as ISO strings, decimals as strings, tuples as lists."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=_sort_key) if isinstance(value, set | frozenset) else items
    return str(value)


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def dumps(value: Any) -> str:
    """Canonical JSON text of a value (sorted keys, no spaces): stable for hashing and storage."""
    return json.dumps(jsonable(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def parse_datetime(value: Any) -> datetime | None:
    """A datetime from a datetime, a date or an ISO string; ``None`` when it is none of those."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - a calendar day has no zone
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        text = value.strip().replace("Z", "+00:00")
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def aware(moment: datetime) -> datetime:
    """The moment with a timezone (naive values are taken as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if isinstance(value, str):
        text = value.strip()
        if not text or not (text[0].isdecimal() or text[0] in "+-."):
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    return None


def _same_moment(a: Any, b: Any) -> bool | None:
    """Compare two dates/datetimes; a date equals a datetime on that day in the datetime's own zone."""
    da, db = parse_datetime(a), parse_datetime(b)
    if da is None or db is None:
        return None
    date_only = [v for v in (a, b) if _is_date_only(v)]
    if date_only:
        return da.date() == db.date()
    if (da.tzinfo is None) != (db.tzinfo is None):
        return da.replace(tzinfo=None) == db.replace(tzinfo=None)
    return da == db


def _is_date_only(value: Any) -> bool:
    if isinstance(value, date) and not isinstance(value, datetime):
        return True
    return isinstance(value, str) and len(value.strip()) == 10


def same(a: Any, b: Any) -> bool:
    """Loose equality for change detection across systems that type values differently.

    Empty values are equal to each other; numbers equal their numeric strings ("5.00" == 5);
    dates equal ISO strings of the same moment (a date matches any time on that day); strings
    compare after trimming; lists compare item by item; mappings key by key.
    """
    if is_empty(a) and is_empty(b):
        return True
    if is_empty(a) or is_empty(b):
        return False
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = set(a) | set(b)
        return all(same(a.get(k), b.get(k)) for k in keys)
    if _is_list(a) or _is_list(b):
        la, lb = _as_list(a), _as_list(b)
        return len(la) == len(lb) and all(same(x, y) for x, y in zip(la, lb, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(_flag(a) == _flag(b))
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    moment = _same_moment(a, b)
    if moment is not None:
        return moment
    return str(a).strip() == str(b).strip()


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, set | frozenset):
        return sorted(value, key=lambda v: _sort_key(jsonable(v)))
    return list(value) if _is_list(value) else [value]


def _flag(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"y", "yes", "true", "1"}:
        return True
    if text in {"n", "no", "false", "0"}:
        return False
    return text

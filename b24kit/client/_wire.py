"""Pure wire format: parameter encoding as Bitrix24 expects it, and envelope decoding."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import quote

JSON = Any


def normalize(value: Any) -> JSON:
    """Turn Python values into what Bitrix24 reads correctly.

    Booleans become ``"Y"``/``"N"`` (fast-bitrix24 sends ``"True"``), datetimes ISO-8601 with
    their offset (a naive datetime is taken as local time and gets the local offset), dates
    ``YYYY-MM-DD``, Decimals their exact text, enums their value, tuples and sets lists.
    ``None`` stays ``None`` (JSON ``null``; an empty string in a batch command).
    """
    if isinstance(value, bool):
        return "Y" if value else "N"
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.astimezone()
        return aware.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, enum.Enum):
        return normalize(value.value)
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [normalize(v) for v in value]
    raise TypeError(f"cannot send a {type(value).__name__} to Bitrix24: {value!r}")


def build_query(params: Mapping[str, Any]) -> str:
    """PHP ``http_build_query`` of normalized params: ``filter[%3EID]=5&select[0]=ID``.

    Every key segment and value is percent-encoded (so ``%TITLE`` and ``>ID`` keys survive);
    ``None`` is an empty value; empty lists and dicts are left out, as PHP does.
    """
    pairs: list[str] = []
    for key, value in normalize(params).items():
        _flatten(quote(str(key), safe=""), value, pairs)
    return "&".join(pairs)


def _flatten(prefix: str, value: JSON, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}[{quote(str(key), safe='')}]", item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, out)
    else:
        out.append(f"{prefix}={quote(_scalar(value), safe='')}")


def _scalar(value: JSON) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def command(method: str, params: Mapping[str, Any] | None) -> str:
    """One batch command: ``crm.deal.get?id=5``."""
    query = build_query(params or {})
    return f"{method}?{query}" if query else method


@dataclass(slots=True)
class Envelope:
    """A successful answer: ``result`` plus the list fields and the ``time`` block."""

    result: JSON
    total: int | None = None
    next: int | None = None
    time: dict[str, Any] = field(default_factory=dict)


def envelope(body: Mapping[str, Any]) -> Envelope:
    total = body.get("total")
    nxt = body.get("next")
    timing = body.get("time")
    return Envelope(
        body.get("result"),
        int(total) if total is not None else None,
        int(nxt) if nxt is not None else None,
        timing if isinstance(timing, dict) else {},
    )


def section(value: JSON) -> dict[str, Any]:
    """A batch section as a dict: PHP sends ``[]`` when empty and a list for keys ``0..n-1``."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def find_key(params: Mapping[str, Any], name: str) -> str | None:
    """The key of ``params`` equal to ``name`` ignoring case (``FILTER``/``filter``), if any."""
    lowered = name.lower()
    return next((k for k in params if str(k).lower() == lowered), None)

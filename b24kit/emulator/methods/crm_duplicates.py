"""``crm.duplicate.findbycomm``: leads, contacts and companies holding given phones or e-mails.

Faithful to ``crm-duplicate-find-by-comm.md`` and the portal's source it describes: every value is
compared by its duplicate-index code. An e-mail's code is the trimmed, lower-cased address. A
phone's code is what ``DuplicateCommunicationCriterion::normalizePhone`` keeps: the digits (``+7
(916) 123-45-67`` and ``8 916 1234567`` are both ``79161234567``; with ten digits or more a
leading ``8`` reads as ``7``, and the international prefixes ``00``/``011`` and a leading ``0``
are dropped), without the extension after ``#``, ``;`` or ``,``. A number written in another
form (without its country code, say) is another code, so it is not a duplicate, as the tutorial
warns. At most 20 values are read (the rest are ignored, as the portal does), and each value
finds at most 20 records, leads first, then contacts, then companies; so 20 matching leads hide
the contacts and companies. Nothing found answers ``[]``, not an object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from b24kit.emulator.crm.entities import COMPANY, CONTACT, LEAD
from b24kit.emulator.errors import RestError
from b24kit.emulator.registry import Ctx, Params, method
from b24kit.emulator.store import Table

MAX_VALUES = 20  # values read per call; the rest are ignored
MAX_PER_VALUE = 20  # records found per value, over all entity types
TYPES = {"LEAD": LEAD, "CONTACT": CONTACT, "COMPANY": COMPANY}
_TABLES = {LEAD: "crm_lead", CONTACT: "crm_contact", COMPANY: "crm_company"}
_NAMES = {type_id: name for name, type_id in TYPES.items()}
_PHONE_KEEP = re.compile(r"[^0-9#*,;]")
_EXTENSION = re.compile(r"(\d+)([;#]*)([\d,]*)")
_PHP_TRIM = " \t\n\r\0\x0b"


def email_code(value: str) -> str:
    """``mb_strtolower(trim($value))``."""
    return value.strip(_PHP_TRIM).lower()


def phone_code(value: str) -> str:
    """``DuplicateCommunicationCriterion::normalizePhone``: ``NormalizePhone($value, 1)``, no extension."""
    if value == "":
        return ""
    number = value
    if len(number) >= 10 and number.startswith("+8"):
        number = "00" + number[1:]
    number = _PHONE_KEEP.sub("", number)
    if len(number) >= 10:
        if number[:2] in ("80", "81", "82"):
            pass
        elif number.startswith("00"):
            number = number[2:]
        elif number.startswith("011"):
            number = number[3:]
        elif number.startswith("8"):
            number = "7" + number[1:]
        elif number.startswith("0"):
            number = number[1:]
    return _EXTENSION.sub(r"\1", number)


_CODERS = {"EMAIL": email_code, "PHONE": phone_code}


@dataclass
class _Index:
    """The duplicate index of one table for one communication type: code -> ids (ascending).

    Kept up to date incrementally: a row is re-read only when its multifield list is another
    object than last time (every write through the CRM methods builds a new list).
    """

    comm: str
    version: int = -1
    rows: dict[int, tuple[Any, tuple[str, ...]]] = field(default_factory=dict)
    codes: dict[str, set[int]] = field(default_factory=dict)

    def refresh(self, table: Table) -> None:
        if table.version == self.version:
            return
        coder = _CODERS[self.comm]
        current = table.rows
        for row_id in [r for r in self.rows if r not in current]:
            self._drop(row_id)
        for row_id, row in current.items():
            items = row.get(self.comm)
            known = self.rows.get(row_id)
            if known is not None and known[0] is items:
                continue
            if known is not None:
                self._drop(row_id)
            found = tuple(
                dict.fromkeys(
                    code
                    for item in items or []
                    if isinstance(item, dict) and isinstance(item.get("VALUE"), str)
                    if (code := coder(item["VALUE"]))
                )
            )
            self.rows[row_id] = (items, found)
            for code in found:
                self.codes.setdefault(code, set()).add(row_id)
        self.version = table.version

    def _drop(self, row_id: int) -> None:
        _, found = self.rows.pop(row_id)
        for code in found:
            ids = self.codes.get(code)
            if ids is not None:
                ids.discard(row_id)
                if not ids:
                    del self.codes[code]

    def find(self, code: str) -> list[int]:
        return sorted(self.codes.get(code, ()))


def _index(ctx: Ctx, type_id: int, comm: str) -> _Index:
    table = ctx.portal.table(_TABLES[type_id])
    indexes: dict[tuple[int, str], tuple[Table, _Index]] = ctx.portal.memo.setdefault("crm_duplicates", {})
    held = indexes.get((type_id, comm))
    if held is None or held[0] is not table:  # a reset portal has new tables
        held = indexes[(type_id, comm)] = (table, _Index(comm))
    index = held[1]
    index.refresh(table)
    return index


def _error(text: str, description: str) -> RestError:
    return RestError(400, text, description)


def _comm_type(p: Params) -> str:
    raw = p.get("type")
    comm = str(raw).strip().upper() if isinstance(raw, str | int | float) else ""
    if comm == "":
        raise _error("Communication type is not defined", "Parameter 'type' is required.")
    if comm not in _CODERS:
        text = f"Communication type '{comm}' is not supported in current context"
        raise _error(text, text)
    return comm


def _values(p: Params) -> list[str]:
    """``values`` must be an array; its non-empty strings count, the same phone once, 20 at most."""
    raw = p.get("values")
    if not isinstance(raw, list | dict) or not raw:
        raise _error("Communication values is not defined", "Parameter 'values' is required.")
    return [v for v in (raw.values() if isinstance(raw, dict) else raw) if isinstance(v, str) and v != ""]


def _entity_types(p: Params) -> tuple[int, ...]:
    """``entity_type``: one of LEAD, CONTACT, COMPANY; anything else (or nothing) means all three."""
    raw = p.first("entity_type", "entitytype")
    name = raw.strip().upper() if isinstance(raw, str) else ""
    if name == "DEAL":
        text = "Deal is not supported in current context."
        raise _error(text, text)
    return (TYPES[name],) if name in TYPES else (LEAD, CONTACT, COMPANY)


@method("crm.duplicate.findbycomm", scope="crm")
def find_by_comm(ctx: Ctx, p: Params) -> dict[str, list[int]] | list[Any]:
    comm = _comm_type(p)
    values = _values(p)
    types = _entity_types(p)
    coder = _CODERS[comm]
    criteria: list[str] = []
    seen: set[str] = set()
    found: dict[str, list[int]] = {}
    for value in values:
        if len(criteria) >= MAX_VALUES:
            break
        same = phone_code(value) if comm == "PHONE" else value  # the portal's equals()
        if same in seen:
            continue
        seen.add(same)
        criteria.append(value)
        code = coder(value)
        if code == "":
            continue
        left = MAX_PER_VALUE
        for type_id in types:
            if left <= 0:
                break
            ids = _index(ctx, type_id, comm).find(code)[:left]
            left -= len(ids)
            if ids:
                bucket = found.setdefault(_NAMES[type_id], [])
                bucket.extend(i for i in ids if i not in bucket)
    return found or []

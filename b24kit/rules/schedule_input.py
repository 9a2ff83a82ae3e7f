"""A payment schedule as a manager types it: text lines, or a count with dates and amounts.

Text form, one payment per line, the date first, then the amount, separated by spaces, ``;``,
``,`` or a tab; empty lines and lines starting with ``#`` are skipped::

    2026-12-01 50000
    01.01.2027; 50 000,00

Dates are ``YYYY-MM-DD`` or ``DD.MM.YYYY``. Amounts group digits with spaces, ``'``, ``.`` or
``,`` (groups of three) and may end with a decimal part of one or two digits after ``.`` or
``,``: ``50000``, ``50 000,00``, ``50,000.50``, ``50.000,5``. A separator followed by exactly
three digits groups thousands, so ``50,000`` is fifty thousand (:mod:`b24kit.robots.numbers`,
which robot properties of type ``double`` share).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from b24kit.errors import RobotError
from b24kit.robots.numbers import parse_amount

__all__ = [
    "Payment",
    "ScheduleError",
    "format_text",
    "parse_amount",
    "parse_date",
    "parse_fields",
    "parse_text",
]

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_RU_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_TIME_TAIL = re.compile(r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_LINE = re.compile(
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4})(?:\s*[;,\t]\s*|\s+)(?P<amount>.+)"
)


class ScheduleError(RobotError):
    """The schedule cannot be used as given; the text says where and why."""


@dataclass(frozen=True, order=True)
class Payment:
    """Payment ``number`` (1-based, in schedule order) of ``amount`` due on ``due``."""

    number: int
    due: date
    amount: Decimal


def parse_date(raw: str, *, allow_time: bool = False) -> date:
    """``2026-12-01`` or ``01.12.2026`` (with ``allow_time``, a time after it is ignored)."""
    text = raw.strip()
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_RU_DATE, (2, 1, 0))):
        match = pattern.match(text)
        if match is None:
            continue
        tail = text[match.end() :]
        if tail and not (allow_time and _TIME_TAIL.fullmatch(tail)):
            break
        year, month, day = (int(match.group(i + 1)) for i in order)
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"{text!r} is not a calendar date") from None
    raise ValueError(f"{text!r} is not a date; write 2026-12-01 or 01.12.2026")


def parse_text(text: str) -> list[Payment]:
    """Payments from the text form; a bad line raises :class:`ScheduleError` naming its number."""
    payments: list[Payment] = []
    problems: list[str] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.fullmatch(stripped)
        if match is None:
            problems.append(f"line {line_no}: {stripped!r} is not 'DATE AMOUNT' (e.g. 2026-12-01 50000)")
            continue
        try:
            due = parse_date(match.group("date"))
            amount = parse_amount(match.group("amount"))
        except ValueError as exc:
            problems.append(f"line {line_no}: {exc}")
            continue
        payments.append(Payment(len(payments) + 1, due, amount))
    if problems:
        raise ScheduleError("; ".join(problems))
    return payments


def parse_fields(count: Any, dates: Any, amounts: Any) -> list[Payment]:
    """Payments from separate robot properties: a count, a list of dates, a list of amounts."""
    due_dates, sums = _values(dates), _values(amounts)
    problems: list[str] = []
    wanted = _count(count, len(due_dates), problems)
    if wanted is not None and (len(due_dates) != wanted or len(sums) != wanted):
        problems.append(f"count is {wanted}, but {len(due_dates)} dates and {len(sums)} amounts are given")
    if len(due_dates) != len(sums):
        problems.append(f"{len(due_dates)} dates but {len(sums)} amounts: give one of each per payment")
    payments: list[Payment] = []
    for number, (raw_date, raw_amount) in enumerate(zip(due_dates, sums, strict=False), start=1):
        try:
            payments.append(Payment(number, parse_date(str(raw_date), allow_time=True), _amount(raw_amount)))
        except ValueError as exc:
            problems.append(f"payment {number}: {exc}")
    if problems:
        raise ScheduleError("; ".join(dict.fromkeys(problems)))
    return payments


def format_text(payments: Sequence[Payment], *, style: str = "iso") -> str:
    """The text form of ``payments`` (``iso``: ``2026-12-01 50000.00``; ``ru``: ``01.12.2026; 50 000,00``)."""
    lines = []
    for p in payments:
        if style == "ru":
            amount = f"{p.amount:,.2f}".replace(",", " ").replace(".", ",")
            lines.append(f"{p.due:%d.%m.%Y}; {amount}")
        else:
            lines.append(f"{p.due.isoformat()} {p.amount:.2f}")
    return "\n".join(lines)


def _values(raw: Any) -> list[Any]:
    """A multiple robot property: a list, a PHP-style ``{"0": v, "1": v}`` map, or one value."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, Mapping):
        items = sorted(raw.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdecimal() else 0)
        values = [v for _, v in items]
    elif isinstance(raw, list | tuple):
        values = list(raw)
    else:
        values = [raw]
    return [v for v in values if v not in (None, "")]


def _count(raw: Any, given: int, problems: list[str]) -> int | None:
    if raw in (None, ""):
        return None
    try:
        count = int(str(raw).strip())
    except ValueError:
        problems.append(f"count {raw!r} is not a whole number")
        return None
    if count < 1:
        problems.append(f"count is {count}: at least one payment is needed")
        return None
    return count


def _amount(raw: Any) -> Decimal:
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        return Decimal(str(raw))
    return parse_amount(str(raw))

"""Numbers as people type them: ``50000``, ``50 000,00``, ``50,000.50``, ``1'234.5``.

Digits are grouped by spaces (also no-break and thin spaces), ``'``, ``.`` or ``,``; a separator
followed by exactly three digits groups thousands, so ``50,000`` is fifty thousand. A decimal
part of one or two digits may follow after ``.`` or ``,``. One kind of group separator per
number, and not the decimal one: ``1,234,5`` and ``1.234,567.00`` are refused with the reason.
The S1 payment schedule reads its amounts this way; robot properties of type ``double`` accept
the same, plus a sign and plain decimals (``-0.125``, ``1.5E-5``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_AMOUNT = re.compile(r"(?P<int>\d[\d .,']*?)(?:(?P<dec>[.,])(?P<frac>\d{1,2}))?")
_GROUP_SEP = re.compile(r"[ .,']")
_PLAIN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def parse_amount(raw: str) -> Decimal:
    """``"50 000,00"`` -> ``Decimal("50000.00")``; raises ``ValueError`` with the reason."""
    return _grouped(raw, "an amount")


def parse_number(raw: str) -> Decimal:
    """A signed number: plain (``-0.125``, ``1.5E-5``) or grouped as :func:`parse_amount` reads
    it (``-50 000,00``); raises ``ValueError`` saying why and how to write it."""
    text = _SPACES.sub(" ", raw).strip()
    if _PLAIN.fullmatch(text):
        return Decimal(text)
    sign, body = (text[0], text[1:]) if text[:1] in ("+", "-") else ("", text)
    value = _grouped(body if body[:1].isdecimal() else "?", "a number", shown=raw)
    return -value if sign == "-" else value


def _grouped(raw: str, noun: str, *, shown: str | None = None) -> Decimal:
    text = _SPACES.sub(" ", raw).strip()
    quoted = repr((shown if shown is not None else raw).strip())
    hint = "; write it as 50000.00, 50 000,00 or 50,000.00"
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(f"{quoted} is not {noun}" + (hint if noun == "a number" else ""))
    whole, dec, frac = match.group("int"), match.group("dec"), match.group("frac")
    groups = _GROUP_SEP.split(whole)
    seps = set(_GROUP_SEP.findall(whole))
    if len(seps) > 1 or (dec and dec in seps):
        raise ValueError(f"{quoted} mixes separators; write it as 50000.00 or 50 000,00")
    if seps and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        raise ValueError(f"{quoted} groups digits wrongly; groups of three are expected")
    try:
        return Decimal("".join(groups) + (f".{frac}" if frac else ""))
    except InvalidOperation:
        raise ValueError(f"{quoted} is not {noun}") from None

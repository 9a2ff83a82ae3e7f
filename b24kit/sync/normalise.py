"""Match-key normalisers: e-mail case, phones to E.164, trimmed text, INN, digits."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import phonenumbers

from .values import is_empty, jsonable

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_INN_10: Final = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12_A: Final = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12_B: Final = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def email(value: Any, region: str = "RU") -> str | None:
    """A lower-cased, trimmed e-mail address, or ``None`` when it is not one."""
    text = str(value).strip().lower()
    if text.startswith("mailto:"):
        text = text[7:]
    return text if _EMAIL.match(text) else None


def phone(value: Any, region: str = "RU") -> str | None:
    """The phone number in E.164 (``+79161234567``), or ``None`` when it cannot be parsed."""
    text = str(value).strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def text(value: Any, region: str = "RU") -> str | None:
    """Whitespace collapsed and case folded: ``'  ООО  Ромашка '`` -> ``'ооо ромашка'``."""
    result = " ".join(str(value).split()).casefold()
    return result or None


def digits(value: Any, region: str = "RU") -> str | None:
    """Only the digits of the value."""
    result = "".join(ch for ch in str(value) if ch.isdecimal())
    return result or None


def inn(value: Any, region: str = "RU") -> str | None:
    """A Russian taxpayer number (INN, 10 or 12 digits) with a valid checksum, else ``None``."""
    number = digits(value)
    if number is None or not inn_is_valid(number):
        return None
    return number


def inn_is_valid(number: str) -> bool:
    """Check an INN's control digits (10 digits for organisations, 12 for individuals)."""
    if not number.isdecimal():
        return False
    nums = [int(ch) for ch in number]
    if len(nums) == 10:
        return _control(nums, _INN_10) == nums[9]
    if len(nums) == 12:
        return _control(nums, _INN_12_A) == nums[10] and _control(nums, _INN_12_B) == nums[11]
    return False


def _control(nums: list[int], weights: tuple[int, ...]) -> int:
    return sum(w * n for w, n in zip(weights, nums, strict=False)) % 11 % 10


def exact(value: Any, region: str = "RU") -> str | None:
    """The value as text, trimmed."""
    result = str(jsonable(value)).strip()
    return result or None


NORMALISERS: Final[Mapping[str, Callable[[Any, str], str | None]]] = {
    "exact": exact,
    "text": text,
    "email": email,
    "phone": phone,
    "inn": inn,
    "digits": digits,
}


def scalar_values(value: Any) -> list[Any]:
    """The scalar values inside a field value: list items, and ``VALUE`` of multi-field items."""
    if is_empty(value):
        return []
    if isinstance(value, Mapping):
        inner = value.get("VALUE", value.get("value"))
        return [] if is_empty(inner) else [inner]
    if isinstance(value, list | tuple | set | frozenset):
        found: list[Any] = []
        for item in value:
            found.extend(scalar_values(item))
        return found
    return [value]


def keys_of(value: Any, normaliser: str, region: str = "RU") -> list[str]:
    """Every normalised key in a field value, without duplicates, in order."""
    func = NORMALISERS[normaliser]
    keys: list[str] = []
    for item in scalar_values(value):
        key = func(item, region)
        if key is not None and key not in keys:
            keys.append(key)
    return keys

"""Robot properties: checked against their :class:`PropertySpec` before a handler runs, and
rendered for ``bizproc.robot.add``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from b24kit.automation import PropertySpec

from .numbers import parse_number

_EMPTY: tuple[Any, ...] = (None, "", [], {})


def problems(values: Mapping[str, Any], specs: Mapping[str, PropertySpec]) -> list[str]:
    """What is wrong with a call's properties: missing required ones, values of the wrong type.

    The texts name the property by its label and code, for the business process log.
    """
    found: list[str] = []
    for code, spec in specs.items():
        value = values.get(code)
        label = f"{_label(spec.name) or code} ({code})"
        if value in _EMPTY:
            if spec.required:
                found.append(f"{label} is required")
            continue
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not spec.multiple and len(value) > 1:
            found.append(f"{label} takes one value, got {len(value)}")
        for item in items:
            trouble = _check(item, spec)
            if trouble:
                found.append(f"{label}: {trouble}")
                break
    return found


def _check(value: Any, spec: PropertySpec) -> str | None:
    text = str(value).strip()
    if spec.type == "int":
        return None if _is_int(text) else f"{text!r} is not a whole number"
    if spec.type == "double":
        try:
            parse_number(text)
        except ValueError as exc:
            return str(exc)
        return None
    if spec.type == "bool":
        return None if text.upper() in ("Y", "N", "1", "0", "TRUE", "FALSE") else f"{text!r} is not Y or N"
    if spec.type == "select" and spec.options:
        return None if text in spec.options else f"{text!r} is not one of {', '.join(spec.options)}"
    if spec.type in ("date", "datetime"):
        return None if _is_date(text) else f"{text!r} is not a date"
    return None


def _is_int(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    return body.isdecimal()


def _is_date(text: str) -> bool:
    for parse in (datetime.fromisoformat, date.fromisoformat):
        try:
            parse(text)
        except ValueError:
            continue
        return True
    try:
        datetime.strptime(text[:10], "%d.%m.%Y")  # noqa: DTZ007 - only the format is checked
    except ValueError:
        return False
    return True


def _label(name: str | dict[str, str]) -> str:
    if isinstance(name, dict):
        return name.get("en") or name.get("ru") or next(iter(name.values()), "")
    return name


def render(specs: Mapping[str, PropertySpec]) -> dict[str, dict[str, Any]]:
    """``PROPERTIES`` / ``RETURN_PROPERTIES`` for ``bizproc.robot.add`` (docs: the PROPERTY object)."""
    out: dict[str, dict[str, Any]] = {}
    for code, spec in specs.items():
        item: dict[str, Any] = {
            "Name": spec.name or code,
            "Type": spec.type,
            "Required": "Y" if spec.required else "N",
            "Multiple": "Y" if spec.multiple else "N",
        }
        if spec.description:
            item["Description"] = spec.description
        if spec.default not in (None, ""):
            item["Default"] = spec.default
        if spec.options:
            item["Options"] = dict(spec.options)
        out[code] = item
    return out

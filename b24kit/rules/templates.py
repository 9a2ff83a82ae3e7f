"""Text templates: ``str.format`` placeholders from a fixed set of names, checked when loaded.

A template is plain text with ``{name}`` placeholders (``{{`` and ``}}`` for literal braces).
Only the names a rule offers are allowed, and nothing else: no attribute or index access, no
conversions or format specs, so a template from a YAML file can never run an expression.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from string import Formatter

from b24kit.errors import ConfigError

_FORMATTER = Formatter()


def check_template(text: str, names: Iterable[str], *, field: str) -> str:
    """Return ``text`` if every placeholder is one of ``names``; else raise :class:`ConfigError`."""
    allowed = frozenset(names)
    known = ", ".join("{" + n + "}" for n in sorted(allowed))
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ConfigError(
            f"template {text!r} is malformed ({exc})", field=field, suggestion="write {{ and }} for braces"
        ) from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            raise ConfigError(
                f"unknown placeholder {{{name}}} in {text!r}", field=field, suggestion=f"use {known}"
            )
        if spec or conversion:
            raise ConfigError(
                f"placeholder {{{name}}} in {text!r} has a conversion or format spec; write {{{name}}} alone",
                field=field,
            )
    return text


def render(text: str, values: Mapping[str, object]) -> str:
    """Fill ``text``'s placeholders from ``values`` (a name missing from ``values`` renders empty)."""
    out: list[str] = []
    for literal, name, _, _ in _FORMATTER.parse(text):
        out.append(literal)
        if name is not None:
            value = values.get(name)
            out.append("" if value is None else str(value))
    return "".join(out)

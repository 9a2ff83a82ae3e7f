"""PHP-style form bodies (``data[FIELDS][ID]=5&auth[member_id]=...``) parsed under size limits.

The portal POSTs events and robot calls as ``application/x-www-form-urlencoded`` bodies built by
PHP's ``http_build_query``; this is the inverse (``parse_str``). Anything malformed or too big
raises :class:`FormError`, which the HTTP layer answers with 400: a hostile body never gets
further than this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import orjson

from b24kit.errors import B24Error


class FormError(B24Error, ValueError):
    """The body is not a well-formed event or robot payload (the runner answers 400)."""


@dataclass(frozen=True)
class FormLimits:
    """How much one body may hold: bytes, ``key=value`` pairs, bracket depth."""

    max_bytes: int = 1_048_576
    max_pairs: int = 2_000
    max_depth: int = 8


def parse_body(raw: bytes, content_type: str, limits: FormLimits | None = None) -> dict[str, Any]:
    """A form (PHP brackets) or JSON object body as nested dicts; ``FormError`` when malformed."""
    limits = limits or FormLimits()
    if len(raw) > limits.max_bytes:
        raise FormError(f"the body is larger than {limits.max_bytes} bytes")
    if not raw.strip():
        raise FormError("the body is empty")
    if "json" in content_type.lower():
        return _json(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError("the body is not UTF-8") from None
    return parse_form(text, limits)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FormError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise FormError("the body must be a JSON object")
    return data


def parse_form(text: str, limits: FormLimits | None = None) -> dict[str, Any]:
    """``parse_str``: ``a[b][]=1&a[b][]=2`` -> ``{"a": {"b": ["1", "2"]}}``.

    Maps keyed exactly ``0..n-1`` become lists, as PHP's JSON encoder renders them.
    """
    limits = limits or FormLimits()
    chunks = [c for c in text.split("&") if c]
    if len(chunks) > limits.max_pairs:
        raise FormError(f"the body has more than {limits.max_pairs} fields")
    root: dict[str, Any] = {}
    for chunk in chunks:
        key, _, value = chunk.partition("=")
        path = split_key(_unquote(key), limits.max_depth)
        if path:
            _insert(root, path, _unquote(value))
    listed: dict[str, Any] = {k: _listify(v) for k, v in root.items()}
    return listed


def _unquote(text: str) -> str:
    return unquote_plus(text) if "%" in text or "+" in text else text


def split_key(key: str, max_depth: int = 8) -> list[str | None]:
    """``data[FIELDS][ID]`` -> ``["data", "FIELDS", "ID"]``; ``x[]`` -> ``["x", None]``."""
    bracket = key.find("[")
    if bracket < 0:
        return [key] if key else []
    if bracket == 0:
        raise FormError(f"field name {key[:60]!r} starts with a bracket")
    parts: list[str | None] = [key[:bracket]]
    rest = key[bracket:]
    while rest:
        if not rest.startswith("[") or "]" not in rest:
            raise FormError(f"field name {key[:60]!r} has unbalanced brackets")
        end = rest.index("]")
        inner = rest[1:end]
        if "[" in inner:
            raise FormError(f"field name {key[:60]!r} has unbalanced brackets")
        parts.append(inner or None)
        rest = rest[end + 1 :]
        if len(parts) > max_depth:
            raise FormError(f"field name {key[:60]!r} is nested deeper than {max_depth} levels")
    return parts


def _insert(root: dict[str, Any], path: list[str | None], value: str) -> None:
    node = root
    for i, part in enumerate(path):
        last = i == len(path) - 1
        name = str(len(node)) if part is None else part
        if last:
            if isinstance(node.get(name), dict):
                raise FormError(f"field {'.'.join(str(p) for p in path[: i + 1])} is both a value and a map")
            node[name] = value
            return
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise FormError(f"field {'.'.join(str(p) for p in path[: i + 1])} is both a value and a map")
        node = child


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {k: _listify(v) for k, v in value.items()}
    if items and all(k == str(i) for i, k in enumerate(items)):
        return list(items.values())
    return items

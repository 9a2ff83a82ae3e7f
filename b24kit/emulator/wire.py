"""The portal's reading and writing of the wire formats: PHP-style form keys and JSON.

Bitrix24 parses form and query strings with PHP's ``parse_str``: ``a[]`` appends, ``a[0]`` is a
numeric key, and operator prefixes live inside the brackets (``filter[>=DATE_CREATE]``). The
emulator keeps its own reading of these formats and shares no code with the b24kit client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote_plus

import orjson

MAX_DEPTH = 32


class WireError(ValueError):
    """The request body or query string cannot be read."""


def parse_query(query: str) -> dict[str, Any]:
    """Parse a query string or form body the way PHP's ``parse_str`` does.

    Pairs are split on ``&``; ``+`` is a space; a name without ``=`` has an empty value.
    """
    pairs: list[tuple[str, str]] = []
    for chunk in query.split("&"):
        if not chunk:
            continue
        key, _, value = chunk.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        pairs.append((key, value))
    return build_nested(pairs)


def build_nested(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Fold ``(key, value)`` pairs with bracketed keys into nested dicts and lists.

    The top level stays an object even when keyed ``0..n-1`` (positional methods such as
    ``task.commentitem.add?0=123&1[POST_MESSAGE]=text``).
    """
    root: dict[str, Any] = {}
    counters: _Counters = {}
    nested = False
    for key, value in pairs:
        if "[" not in key:
            if key:
                root[key] = value
            continue
        path = split_key(key)
        if len(path) == 1:
            root[key] = value
        else:
            _insert(root, path, value, counters)
            nested = True
    return {key: _listify(value) for key, value in root.items()} if nested else root


def split_key(key: str) -> list[str | None]:
    """``filter[>ID]`` -> ``["filter", ">ID"]``; ``select[]`` -> ``["select", None]``."""
    bracket = key.find("[")
    if bracket <= 0:
        return [key] if key else []
    parts: list[str | None] = [key[:bracket]]
    pos, length = bracket, len(key)
    while pos < length and key[pos] == "[":  # PHP ignores whatever follows a malformed run
        end = key.find("]", pos + 1)
        inner = key[pos + 1 : end]
        if end < 0 or "[" in inner:
            break
        parts.append(inner or None)
        pos = end + 1
        if len(parts) > MAX_DEPTH:
            raise WireError(f"Parameter nesting is deeper than {MAX_DEPTH} levels: {key[:80]}")
    return parts if len(parts) > 1 else [key]


# id(node) -> (node, the index ``[]`` appends at next); the node is kept so its id stays its own
_Counters = dict[int, tuple[dict[str, Any], int]]


def _insert(node: dict[str, Any], path: list[str | None], value: Any, counters: _Counters) -> None:
    current: dict[str, Any] = node
    last = len(path) - 1
    for index, part in enumerate(path):
        if part is None:
            part = str(_next_index(current, counters))
        elif _is_int(part):
            number = int(part)
            known = counters.get(id(current))
            if known is None or known[1] <= number:
                counters[id(current)] = (current, number + 1)
        if index == last:
            current[part] = value
            return
        child = current.get(part)
        if not isinstance(child, dict):
            child = {}
            current[part] = child
        current = child


def _is_int(text: str) -> bool:
    """A canonical decimal integer, the only kind of key PHP turns into a number (not ``05``)."""
    digits = text[1:] if text[:1] == "-" else text
    return digits.isascii() and digits.isdecimal() and (digits[0] != "0" or text == "0")


def _next_index(node: dict[str, Any], counters: _Counters) -> int:
    known = counters.get(id(node))
    number = known[1] if known is not None else 0
    counters[id(node)] = (node, number + 1)
    return number


def _listify(value: Any) -> Any:
    """Turn dicts keyed exactly ``"0".."n-1"`` into lists, recursively (PHP list arrays)."""
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k == str(i) for i, k in enumerate(converted)):
            return list(converted.values())
        return converted
    return value


def parse_json(body: bytes) -> dict[str, Any]:
    """Parse a JSON request body; the top level must be an object."""
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WireError(f"Malformed JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise WireError("The JSON body must be an object")
    _check_depth(data, 0)
    return data


def _check_depth(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise WireError(f"Parameter nesting is deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)


def http_build_query(data: Mapping[str, Any]) -> str:
    """Encode nested data as PHP's ``http_build_query`` does (for outgoing event payloads)."""
    pairs: list[str] = []
    for key, value in data.items():
        _flatten(str(key), value, pairs)
    return "&".join(pairs)


def _flatten(prefix: str, value: Any, out: list[str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, out)
    else:
        out.append(f"{quote(prefix, safe='')}={quote(_php_scalar(value), safe='')}")


def _php_scalar(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "1"
    if value is False:
        return ""
    return str(value)


def dump(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


def php_array(section: Mapping[str, Any]) -> Any:
    """Serialise a keyed section as PHP would: ``[]`` when empty, a list when keyed ``0..n-1``."""
    if not section:
        return []
    if all(k == str(i) for i, k in enumerate(section)):
        return list(section.values())
    return dict(section)

"""``batch``: up to 50 commands run in order, with ``$result[...]`` references between them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from b24kit.emulator.errors import RestError
from b24kit.emulator.query import flag
from b24kit.emulator.registry import METHODS, Ctx, Params, method
from b24kit.emulator.wire import parse_query, php_array

MAX_COMMANDS = 50
_REFERENCE = re.compile(r"\$(result|result_error|result_total|result_next|result_time)((?:\[[^\[\]]*\])+)")


@method("batch", scope="basic", batchable=False)
def batch(ctx: Ctx, p: Params) -> dict[str, Any]:
    commands = _commands(p.get("cmd"))
    halt = flag(p.get("halt", 0)) == "Y"
    sections: dict[str, dict[str, Any]] = {
        "result": {},
        "result_error": {},
        "result_total": {},
        "result_next": {},
        "result_time": {},
    }
    for index, (label, command) in enumerate(commands):
        try:
            if index >= MAX_COMMANDS:
                raise RestError(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
            if not isinstance(command, str):
                raise RestError(400, "ERROR_ARGUMENT", "A batch command must be a string 'method?query'")
            _run(ctx, label, command, sections)
        except RestError as exc:
            sections["result_error"][label] = exc.body()
            if halt:
                break
    return {name: php_array(section) for name, section in sections.items()}


def _commands(cmd: Any) -> list[tuple[str, Any]]:
    if isinstance(cmd, dict):
        return [(str(k), v) for k, v in cmd.items()]
    if isinstance(cmd, list):
        return [(str(i), v) for i, v in enumerate(cmd)]
    if cmd in (None, ""):
        return []
    raise RestError(400, "ERROR_ARGUMENT", "Parameter 'cmd' must be array.")


def _run(ctx: Ctx, label: str, command: str, sections: dict[str, dict[str, Any]]) -> None:
    name, _, query = command.partition("?")
    name = unquote(name).strip().lower()
    for suffix in (".json", ".xml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    spec = METHODS.get(name)
    if spec is not None and not spec.batchable:
        raise RestError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")
    params = parse_query(query)
    if "result" in query:  # a reference, maybe percent-encoded: %24result%5B...
        params = _substitute(params, sections)
    for transport in ("auth", "bx24_request_id", "auth_connector"):
        params.pop(transport, None)
    outcome = ctx.portal.execute(ctx.caller, name, params, via="batch")
    sections["result"][label] = outcome.result
    if outcome.total is not None:
        sections["result_total"][label] = outcome.total
    if outcome.next is not None:
        sections["result_next"][label] = outcome.next
    sections["result_time"][label] = outcome.time


def _substitute(value: Any, sections: dict[str, dict[str, Any]]) -> Any:
    """Replace ``$result[cmd][key]...`` in decoded values; unresolvable references stay as text."""
    if isinstance(value, dict):
        return {k: _substitute(v, sections) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, sections) for v in value]
    if not isinstance(value, str) or "$result" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        resolved = _resolve(sections.get(match.group(1), {}), match.group(2))
        if resolved is _MISSING or isinstance(resolved, dict | list):
            return match.group(0)
        if resolved is None or resolved is False:
            return ""
        return "1" if resolved is True else str(resolved)

    return _REFERENCE.sub(replace, value)


_MISSING = object()


def _resolve(section: dict[str, Any], path: str) -> Any:
    keys = re.findall(r"\[([^\[\]]*)\]", path)
    current: Any = section
    for key in keys:
        if isinstance(current, dict) and key in current:
            current = current[key]
        elif isinstance(current, list) and key.isascii() and key.isdecimal() and int(key) < len(current):
            current = current[int(key)]
        else:
            return _MISSING
    return current

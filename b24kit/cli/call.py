"""``b24kit call METHOD key=value ...``: one REST call, or every record of a list with ``--all``."""

from __future__ import annotations

import json
import re
import sys
from typing import Annotated, Any

import typer

from b24kit.errors import B24Error

from .portal_options import ConfigOption, DebugOption, PortalOption, fail, log_to_stderr, resolve_portal

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def parse_params(pairs: list[str], json_text: str | None) -> dict[str, Any]:
    """``--json`` first, then ``key=value`` (a string) and ``key:=JSON`` pairs on top.

    Keys use PHP brackets: ``filter[>ID]=5``, ``select[]=ID``, ``fields[OPENED]:=true``.
    """
    params: dict[str, Any] = {}
    if json_text:
        try:
            loaded = json.loads(json_text)
        except ValueError as exc:
            raise typer.BadParameter(f"not JSON: {exc}", param_hint="--json") from None
        if not isinstance(loaded, dict):
            raise typer.BadParameter("must be a JSON object", param_hint="--json")
        params.update(loaded)
    for pair in pairs:
        _put(params, *_split(pair))
    return params


def _split(pair: str) -> tuple[list[str], Any]:
    key, sep, raw = pair.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"expected key=value or key:=JSON, got {pair!r}", param_hint="PARAMS")
    value: Any = raw
    if key.endswith(":"):
        key = key[:-1]
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise typer.BadParameter(f"{key}: not JSON: {exc}", param_hint="PARAMS") from None
    match = _KEY.match(key)
    if match is None:
        raise typer.BadParameter(f"bad key {key!r} (use name, name[sub] or name[])", param_hint="PARAMS")
    path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
    return path, value


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    node: Any = target
    for index, part in enumerate(path):
        last = index == len(path) - 1
        following = None if last else path[index + 1]
        empty: Any = [] if following == "" else {}
        if isinstance(node, list):
            if part != "":
                raise typer.BadParameter(f"cannot mix name[] and name[key] in {'.'.join(path)}")
            if last:
                node.append(value)
                return
            node.append(empty)
            node = node[-1]
            continue
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, empty)


def call(
    method: Annotated[str, typer.Argument(help="REST method, e.g. crm.deal.list.")],
    params: Annotated[
        list[str] | None, typer.Argument(help="key=value or key:=JSON; keys like filter[>ID] or select[].")
    ] = None,
    json_params: Annotated[str | None, typer.Option("--json", help="Parameters as a JSON object.")] = None,
    all_records: Annotated[
        bool, typer.Option("--all", help="Stream every record of a list method as JSON lines.")
    ] = False,
    portal: PortalOption = None,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Call one REST method and print its result as JSON (with --all: every record, one per line)."""
    log_to_stderr(debug)
    try:
        arguments = parse_params(params or [], json_params)
        target = resolve_portal(portal, config)
        from b24kit.client import Client

        with Client(target) as b24:
            if all_records:
                _stream(b24, method, arguments)
            else:
                result = b24.call(method, arguments)
                typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    except (B24Error, ValueError) as exc:
        fail(exc)


def _stream(b24: Any, method: str, params: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr)
    columns = (TextColumn(method), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(method, total=None)
        count = 0
        for page in b24.iter_pages(method, params):
            if page.total:
                bar.update(task, total=max(page.total, count + len(page.rows)))
            for row in page.rows:
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += len(page.rows)
            bar.update(task, completed=count)
    sys.stdout.flush()
    console.print(f"{count} records", style="dim")


def register(app: typer.Typer) -> None:
    app.command(name="call")(call)

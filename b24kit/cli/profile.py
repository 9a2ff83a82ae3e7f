"""``b24kit profile validate|schema``: check sync profiles and publish their JSON Schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from . import render
from .portal_options import EXIT_INPUT, ConfigOption, PortalOption

app = typer.Typer(help="Check sync profiles and print their JSON Schema.", no_args_is_help=True)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Profile files (YAML).", show_default=False)],
    portal: PortalOption = None,
    config: ConfigOption = None,
    connect: Annotated[
        bool, typer.Option("--connect", help="Also check fields, keys and values against the live systems.")
    ] = False,
) -> None:
    """Validate profiles: every error names the file, line and field, with a suggestion."""
    from b24kit.sync.service import validate_paths

    from .sync import portal_for

    check = connect or portal is not None
    target = portal_for(paths, portal, config) if check else None
    results = validate_paths(paths, env=os.environ, connect=check, portal=target)
    render.validation(render.console(), results)
    if any(errors for _, errors in results):
        raise typer.Exit(EXIT_INPUT)


@app.command()
def schema() -> None:
    """Print the JSON Schema of profile version 1 (for editors and CI)."""
    from b24kit.sync.loader import profile_schema

    typer.echo(json.dumps(profile_schema(), indent=2, ensure_ascii=False))

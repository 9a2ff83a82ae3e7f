"""``b24kit sync plan|run|links``: preview and apply sync profiles, and move their link tables."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from b24kit.errors import B24Error, ConfigError

from . import render
from .portal_options import EXIT_INPUT, EXIT_OK, EXIT_RECORDS, ConfigOption, PortalOption, fail

app = typer.Typer(help="Plan and run sync profiles.", no_args_is_help=True)
links = typer.Typer(help="Export or import a profile's link table as CSV.", no_args_is_help=True)
app.add_typer(links, name="links")

ProfileArg = Annotated[Path, typer.Argument(help="The profile (YAML).", show_default=False)]
StateOption = Annotated[
    str,
    typer.Option(
        "--state",
        envvar="B24KIT_STATE_URL",
        help="State store URL: sqlite:///FILE or postgresql+psycopg://USER@HOST/DB.",
    ),
]
InputOption = Annotated[
    Path | None, typer.Option("--input", "-i", help="The file to read (replaces the source's options.path).")
]
FullOption = Annotated[bool, typer.Option("--full", help="Ignore the cursor and read everything.")]
DEFAULT_STATE = "sqlite:///.b24kit/state.db"


def portal_for(paths: Sequence[Path], portal: str | None, config: str | None) -> Any:
    """The portal settings when a profile uses the ``bitrix`` connector, else ``None``."""
    from b24kit.sync.loader import load_profile

    from .portal_options import resolve_portal

    needs = False
    for path in paths:
        try:
            profile = load_profile(path, env=os.environ, check_connectors=False)
        except ConfigError:
            continue
        needs = needs or any(
            side.connector == "bitrix" and not side.options.get("webhook")
            for side in (profile.source, profile.target)
        )
    return resolve_portal(portal, config) if needs or portal is not None else None


def _session(
    profile: Path, state: str, input_file: Path | None, portal: str | None, config: str | None
) -> Any:
    from b24kit.sync.service import open_session

    return open_session(
        profile,
        env=os.environ,
        state_url=state,
        input_file=input_file,
        portal=portal_for([profile], portal, config),
    )


@app.command()
def plan(
    profile: ProfileArg,
    input_file: InputOption = None,
    state: StateOption = DEFAULT_STATE,
    portal: PortalOption = None,
    config: ConfigOption = None,
    full: FullOption = False,
    limit: Annotated[int, typer.Option(help="Most records to list.")] = 200,
) -> None:
    """Show what a run would create, update, deactivate and delete, field by field; write nothing."""
    from b24kit.sync.service import execute

    out = render.console()
    try:
        with _session(profile, state, input_file, portal, config) as session:
            report = execute(session, plan_only=True, full=full, keep_outcomes=True)
    except B24Error as exc:
        fail(exc)
        return
    render.plan(out, report, limit=limit)
    raise typer.Exit(EXIT_INPUT if report.guard else EXIT_OK)


@app.command()
def run(
    profile: ProfileArg,
    input_file: InputOption = None,
    report_file: Annotated[
        Path | None, typer.Option("--report", "-r", help="Write a per-record report (.xlsx or .csv).")
    ] = None,
    state: StateOption = DEFAULT_STATE,
    portal: PortalOption = None,
    config: ConfigOption = None,
    full: FullOption = False,
    force_deletes: Annotated[
        bool, typer.Option("--force-deletes", help="Apply deletes even when the guard would stop them.")
    ] = False,
) -> None:
    """Apply the profile in batches of 50 and print a summary (exit 1 when some records failed)."""
    from b24kit.sync.connectors.excel_report import open_report
    from b24kit.sync.service import execute

    out = render.console()
    writer = None
    try:
        writer = open_report(report_file) if report_file else None
        with (
            _session(profile, state, input_file, portal, config) as session,
            render.progress(out, session.profile.name) as tick,
        ):
            listener = _both(tick, writer)
            report = execute(session, full=full, force_deletes=force_deletes, listener=listener)
    except B24Error as exc:
        if writer is not None:
            writer.close(None, error=str(exc))
        fail(exc)
        return
    if writer is not None:
        writer.close(report)
    render.failures(out, report)
    render.totals(out, report)
    code = EXIT_INPUT if report.guard else (EXIT_RECORDS if report.failed else EXIT_OK)
    raise typer.Exit(code)


def _both(first: Callable[[Any], None], second: Callable[[Any], None] | None) -> Callable[[Any], None]:
    if second is None:
        return first

    def listener(outcome: Any) -> None:
        first(outcome)
        second(outcome)

    return listener


def _store(profile: Path, state: str) -> tuple[Any, str]:
    from b24kit.sync.loader import load_profile
    from b24kit.sync.state import StateStore

    loaded = load_profile(profile, env=os.environ, check_connectors=False)
    return StateStore(state), loaded.name


@links.command("export")
def links_export(
    profile: ProfileArg,
    state: StateOption = DEFAULT_STATE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="CSV file (default: stdout).")] = None,
) -> None:
    """Write the link table (source_id, target_id, state) as CSV."""
    from b24kit.sync.service import export_links

    try:
        store, name = _store(profile, state)
        with store:
            if output is None:
                count = export_links(store, name, sys.stdout)
            else:
                with output.open("w", encoding="utf-8", newline="") as handle:
                    count = export_links(store, name, handle)
    except B24Error as exc:
        fail(exc)
        return
    render.console(err=True).print(f"{count} links exported")


@links.command("import")
def links_import(
    profile: ProfileArg,
    file: Annotated[Path, typer.Argument(help="CSV with source_id,target_id[,state].", show_default=False)],
    state: StateOption = DEFAULT_STATE,
    replace: Annotated[bool, typer.Option("--replace", help="Drop the existing links first.")] = False,
) -> None:
    """Load links from CSV (to move a sync to another machine, or rebuild it)."""
    from b24kit.sync.service import import_links

    try:
        store, name = _store(profile, state)
        with store, file.open(encoding="utf-8-sig", newline="") as handle:
            count = import_links(store, name, handle, source=str(file), replace=replace)
    except OSError as exc:
        fail(ConfigError(f"cannot read {file}: {exc.strerror or exc}"))
        return
    except B24Error as exc:
        fail(exc)
        return
    render.console(err=True).print(f"{count} links imported")

"""What every portal-facing command shares: ``--portal``/``--config``, and exit codes for errors."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, NoReturn

import typer

from b24kit.client import PortalConfig
from b24kit.client._log import SECRETS
from b24kit.errors import (
    ApiError,
    B24Error,
    BatchError,
    ConfigError,
    ConfigIssues,
    InvalidRequest,
    NotFound,
    RecordError,
    TransportError,
)

EXIT_OK, EXIT_RECORDS, EXIT_INPUT, EXIT_PORTAL = 0, 1, 2, 3

PortalOption = Annotated[
    str | None,
    typer.Option(
        "--portal", "-p", help="A portal named in the config, or a webhook URL.", show_default=False
    ),
]
ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $B24KIT_CONFIG or ./b24kit.yaml).", show_default=False
    ),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Log every call (secrets masked) to stderr.")]


def resolve_portal(portal: str | None, config: str | None) -> PortalConfig:
    """The portal a command talks to: ``--portal`` (name or URL), else the config's default."""
    from b24kit.config import load_settings

    return load_settings(config).portal(portal)


def exit_code(exc: BaseException) -> int:
    """0 ok, 1 some records failed, 2 bad configuration or input, 3 portal or network failure."""
    if isinstance(exc, BatchError | RecordError):
        return EXIT_RECORDS
    if isinstance(exc, ConfigError | InvalidRequest | NotFound | ValueError):
        return EXIT_INPUT
    if isinstance(exc, ApiError | TransportError):
        return EXIT_PORTAL
    return EXIT_PORTAL if isinstance(exc, B24Error) else EXIT_INPUT


def fail(exc: BaseException) -> NoReturn:
    """Print the error and exit with its code: each issue of a profile or job files on its own
    line (file:line: field: message), anything else on one line (secrets masked)."""
    if isinstance(exc, ConfigIssues):
        from . import render

        render.issues(render.console(err=True), exc.issues)
    else:
        typer.echo(f"error: {SECRETS.mask(str(exc))}", err=True)
    raise typer.Exit(exit_code(exc))


def log_to_stderr(debug: bool) -> None:
    """With ``--debug``, the client's per-call log lines go to stderr."""
    if not debug:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("b24kit.client")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

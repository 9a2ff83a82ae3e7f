"""``b24kit serve``: the job runner in one process (HTTP endpoints, workers, cron, timers)."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from b24kit.errors import B24Error

from .portal_options import ConfigOption, fail

HostOption = Annotated[str | None, typer.Option("--host", help="Listen address (runner.listen.host).")]
PortOption = Annotated[int | None, typer.Option("--port", help="Listen port; 0 picks a free one (printed).")]
StateOption = Annotated[str | None, typer.Option("--state", help="State store URL (runner.state).")]
WorkersOption = Annotated[int | None, typer.Option("--workers", help="Concurrent tasks (runner.workers).")]
LogOption = Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")]


def serve(
    config: ConfigOption = None,
    host: HostOption = None,
    port: PortOption = None,
    state: StateOption = None,
    workers: WorkersOption = None,
    log_level: LogOption = "info",
) -> None:
    """Run the runner; prints its base URL on the first line, then logs to stderr."""
    from b24kit.config import load_settings
    from b24kit.jobs.runner import Runner
    from b24kit.jobs.server import serve as run_server

    _logging(log_level)
    try:
        settings = load_settings(config)
        changes: dict[str, object] = {}
        if state:
            changes["state"] = state
        if workers:
            changes["workers"] = workers
        listen = settings.runner.listen.model_copy(
            update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
        )
        settings.runner = settings.runner.model_copy(update={**changes, "listen": listen})
        runner = Runner.from_settings(settings)
    except (B24Error, ValueError) as exc:
        fail(exc)
    jobs = len(runner.services.jobs)
    portals = ", ".join(runner.services.portals)

    def ready(url: str) -> None:
        print(url, flush=True)
        logging.getLogger("b24kit.jobs").info("serving %s jobs for %s at %s", jobs, portals, url)

    run_server(runner, host=listen.host, port=listen.port, ready=ready)


def _logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("b24kit")
    logger.addHandler(handler)
    logger.setLevel(level.upper())


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)

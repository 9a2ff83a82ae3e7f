"""What the CLI calls for the runner: install robots, bind events, list and retry dead letters.

Each function takes the settings (and the jobs where needed) and does one thing; the CLI only
parses and renders.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from b24kit.automation import LocalMemory, RuleContext
from b24kit.client import AsyncClient
from b24kit.config import Settings
from b24kit.errors import ConfigError, JobError
from b24kit.robots import Installed, install

from .bind import Bound, bind_events
from .jobset import JobDef, JobSet
from .model import TaskRow
from .runner import served_portals, state_url
from .server import public_url
from .settings import RunnerPortal
from .store import JobStore

log = logging.getLogger("b24kit.jobs")


def open_store(settings: Settings) -> JobStore:
    return JobStore(state_url(settings), durability=settings.runner.durability)


def target_portals(settings: Settings, portal: str | None) -> list[str]:
    """The portal asked for, else every portal the runner serves."""
    served = served_portals(settings)
    if portal is None:
        return served
    if portal not in settings.portals:
        known = ", ".join(sorted(settings.portals)) or "none"
        raise ConfigError(f"no portal named {portal!r} (configured: {known})", field="--portal")
    return [portal]


async def install_robots(
    settings: Settings, jobs: JobSet, portal: str, *, base_url: str | None = None
) -> list[Installed]:
    """Register or update the robots the jobs declare for ``portal`` (handler: BASE/robots/CODE)."""
    base = (base_url or public_url(settings)).rstrip("/")
    robots = jobs.robots(portal)
    if not robots:
        return []
    with open_store(settings) as store:
        async with AsyncClient(settings.portal(portal)) as client:
            return await install(
                client,
                robots,
                handler_url=lambda code: f"{base}/robots/{code}?portal={portal}",
                fingerprints=store,
                portal=portal,
            )


async def bind(
    settings: Settings,
    jobs: JobSet,
    portal: str,
    *,
    base_url: str | None = None,
    mode: str | None = None,
    prune: bool = False,
) -> list[Bound]:
    """Bind the events ``portal``'s jobs watch (online to BASE/events/PORTAL, or offline under
    the portal's ``auth_connector``, which the runner's calls carry too)."""
    base = (base_url or public_url(settings)).rstrip("/")
    configured = settings.runner.portals.get(portal) or RunnerPortal()
    how = mode or configured.events
    if how not in ("online", "offline"):
        raise ConfigError(f"mode {how!r} is not online or offline", field="--mode")
    if how == "offline" and configured.events != "offline":
        log.warning(
            "binding %s offline, but runner.portals.%s.events is not offline: the runner will not poll",
            portal,
            portal,
        )
    async with AsyncClient(settings.portal(portal)) as client:
        return await bind_events(
            client,
            jobs.events(portal),
            handler=f"{base}/events/{portal}",
            mode="offline" if how == "offline" else "online",
            prune=prune,
            connector=configured.auth_connector if how == "offline" else None,
        )


def failed(settings: Settings, *, limit: int = 100) -> list[TaskRow]:
    with open_store(settings) as store:
        return store.inbox.rows("dead", limit=limit)


def show(settings: Settings, task_id: int) -> TaskRow | None:
    with open_store(settings) as store:
        return store.inbox.get(task_id)


def retry(settings: Settings, ids: Sequence[int] | None) -> list[int]:
    """Dead letters back to the queue (a running ``b24kit serve`` picks them up)."""
    with open_store(settings) as store:
        return store.inbox.retry_dead(ids, now=time.time())


def run_now(settings: Settings, jobs: JobSet, name: str, portal: str) -> None:
    """Queue a run of job ``name`` (or ``@reconcile``) on ``portal``; a running runner picks it up."""
    from .execute import RECONCILE, job_run_item

    if name != RECONCILE and jobs.get(name) is None:
        known = ", ".join(sorted(j.name for j in jobs.jobs)) or "none"
        raise ConfigError(f"no job named {name!r} (known: {known}, or @reconcile)", field="job")
    with open_store(settings) as store:
        store.inbox.accept([job_run_item(portal, name, "manual", "", 0.0)], now=time.time(), dedupe_window=0)


def counts(settings: Settings) -> dict[str, int]:
    with open_store(settings) as store:
        return store.inbox.counts()


def job_files(settings: Settings) -> list[Path]:
    from .loader import expand
    from .runner import base_dir

    return expand(settings.runner.jobs, base_dir(settings))


class NoTimers:
    """``ctx.timers`` outside the runner: a timer needs the runner's state store and clock."""

    async def schedule(self, key: str, due: datetime, action: str, payload: dict[str, Any]) -> None:
        raise JobError(f"timer {key!r}: timers need the runner (b24kit serve)")

    async def cancel(self, key: str) -> bool:
        raise JobError(f"timer {key!r}: timers need the runner (b24kit serve)")


@asynccontextmanager
async def rule_context(
    settings: Settings, portal: str | None, job: JobDef | None = None
) -> AsyncIterator[RuleContext]:
    """A context to run a rule once in this process, as the runner would for ``portal`` (a name
    in the config or a webhook URL; none: the default portal): its client, link base and
    language from ``runner.portals``, and ``job``. Memory lasts the run; timers are refused."""
    config = settings.portal(portal)
    options = settings.runner.portals.get(config.name) or RunnerPortal()
    parts = urlsplit(config.url)
    async with AsyncClient(config) as client:
        yield RuleContext(
            portal=config.name,
            client=client,
            timers=NoTimers(),
            portal_url=(options.portal_url or f"{parts.scheme}://{parts.netloc}").rstrip("/"),
            language=options.language,
            log=logging.getLogger(f"b24kit.jobs.{config.name}"),
            memory=LocalMemory(),
            job=job.info() if job is not None else None,
        )

"""The runner assembled: state store, queue, workers, cron, timers, offline pollers, HTTP app.

```python
runner = Runner.from_settings(load_settings("b24kit.yaml"))
app = runner.app()            # Starlette; its lifespan starts and stops everything
```
``b24kit serve`` runs ``app`` under uvicorn (:mod:`.server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.types import ASGIApp

from b24kit.automation.registry import load_plugins
from b24kit.config import Settings
from b24kit.errors import ConfigError

from .app import build_app
from .clients import Clients
from .gate import Gate
from .jobset import JobSet
from .loader import expand, load_jobs
from .offline import OfflineConsumer
from .queue import StoreQueue
from .scheduler import Scheduler
from .services import Services
from .store import JobStore
from .timers import TimerLoop
from .workers import Workers

log = logging.getLogger("b24kit.jobs")
HOUSEKEEPING_SECONDS = 300.0
KEEP_DONE_SECONDS = 24 * 3600.0


def served_portals(settings: Settings) -> list[str]:
    """The portals the runner serves: those under ``runner.portals``, else every configured one."""
    names = list(settings.runner.portals) or list(settings.portals)
    unknown = [n for n in names if n not in settings.portals]
    if unknown:
        raise ConfigError(
            f"runner.portals names {', '.join(unknown)}, which are not under portals:",
            source=str(settings.source) if settings.source else None,
            field="runner.portals",
        )
    if not names:
        raise ConfigError("no portals configured", field="portals", suggestion="add one under portals:")
    return names


def base_dir(settings: Settings) -> Path:
    return settings.source.resolve().parent if settings.source is not None else Path.cwd()


def state_url(settings: Settings) -> str:
    """The store URL, a relative SQLite path read against the config file's folder."""
    url = settings.runner.state
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and len(url) > len(prefix):
        return prefix + str(base_dir(settings) / url[len(prefix) :])
    return url


def import_plugins(settings: Settings) -> None:
    """The built-in rules, the entry-point plugins, and the modules under ``runner.plugins``."""
    load_plugins()
    for module in settings.runner.plugins:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"cannot import plugin {module!r}: {exc}", field="runner.plugins") from None


def load_settings_jobs(settings: Settings, env: Mapping[str, str] | None = None) -> JobSet:
    """The jobs the config's ``runner.jobs`` globs name, validated against its portals."""
    import_plugins(settings)
    paths = expand(settings.runner.jobs, base_dir(settings))
    return load_jobs(paths, env=os.environ if env is None else env, portals=list(settings.portals))


class Runner:
    """Everything ``b24kit serve`` runs, in one process on one event loop."""

    def __init__(self, settings: Settings, jobs: JobSet, store: JobStore) -> None:
        self.settings = settings
        self.store = store
        runner = settings.runner
        self.queue = StoreQueue(store, dedupe_window=runner.dedupe_seconds, lease=runner.lease_seconds)
        self.services = Services(
            settings, jobs, self.queue, Clients(settings), Gate(settings, store, served_portals(settings))
        )
        self.workers = Workers(self.services, runner.workers)
        self.timer_loop = TimerLoop(self.queue)
        self.services.timers_changed = self.timer_loop.changed
        self.scheduler = Scheduler(self.services)
        self.offline = {
            p: OfflineConsumer(p, self.services)
            for p in self.services.portals
            if self.services.portal_settings(p).events == "offline"
        }
        self.services.wake_offline = self._wake_offline
        self._loops: list[asyncio.Task[None]] = []

    @classmethod
    def from_settings(cls, settings: Settings, jobs: JobSet | None = None) -> Runner:
        found = jobs if jobs is not None else load_settings_jobs(settings)
        store = JobStore(state_url(settings), durability=settings.runner.durability)
        return cls(settings, found, store)

    def _wake_offline(self, portal: str) -> None:
        consumer = self.offline.get(portal)
        if consumer is not None:
            consumer.wake()

    async def start(self) -> None:
        """Recover what a previous process left running, then start every loop."""
        recovered = await self.queue.run(
            lambda: self.store.inbox.recover(
                now=time.time(),
                every_running=self.store.exclusive,
                max_attempts=self.settings.runner.retry.attempts,
            )
        )
        if recovered:
            log.warning("%s tasks were running when the runner stopped; they run again", recovered)
        self._loops = [
            asyncio.create_task(self.workers.run(), name="b24kit-workers"),
            asyncio.create_task(self.timer_loop.run(), name="b24kit-timers"),
            asyncio.create_task(self._housekeeping(), name="b24kit-housekeeping"),
        ]
        self._loops += [
            asyncio.create_task(c.run(), name=f"b24kit-offline-{p}") for p, c in self.offline.items()
        ]
        await self.scheduler.start()

    async def stop(self) -> None:
        self.scheduler.stop()
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loop
        await self.workers.stop()
        await self.services.clients.close()
        if self.store.exclusive:  # tasks cut short run again at the next start, without a lost attempt
            await self.queue.run(
                lambda: self.store.inbox.recover(now=time.time(), every_running=True, max_attempts=10**9)
            )
        self.queue.close()
        self.store.close()

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                await self.queue.run(self.tidy, time.time())
            except Exception:
                log.exception("housekeeping failed; trying again later")

    def tidy(self, now: float) -> None:
        """Forget old finished tasks and delivery keys; re-queue tasks whose lease ran out."""
        runner = self.settings.runner
        self.store.inbox.purge(done_before=now - KEEP_DONE_SECONDS, seen_before=now - runner.dedupe_seconds)
        if not self.store.exclusive:
            self.store.inbox.recover(now=now, every_running=False, max_attempts=runner.retry.attempts)

    def app(self) -> ASGIApp:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        return build_app(self.services, lifespan)

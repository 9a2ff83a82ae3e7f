"""Cron, on APScheduler 3 (the only module that imports it).

APScheduler only decides *when*; at each fire time it queues a run of the job in the durable
inbox (one queued run per job and portal at most, and never two running: the run's record key is
the job's). The last fire time is kept in the state store, so after downtime a job with
``catch_up: once`` runs once for everything it missed, and ``skip`` waits for its next time.
The reconciliation scan of each portal that asks for one is scheduled here too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .execute import RECONCILE, job_run
from .jobset import JobDef
from .services import Services

log = logging.getLogger("b24kit.jobs.cron")
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A trigger for a validated crontab line or @macro."""
    return CronTrigger.from_crontab(_MACROS.get(expression, expression), timezone=timezone)


def next_fire(expression: str, timezone: str, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after``."""
    trigger = cron_trigger(expression, timezone)
    found: datetime | None = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    return found


class Scheduler:
    """The runner's clock: cron jobs and reconciliation scans, queued as tasks."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.fired = 0

    async def start(self) -> None:
        for job in self.s.jobs.cron():
            for portal in self._portals(job):
                await self._catch_up(job, portal)
                self.scheduler.add_job(
                    self._fire,
                    cron_trigger(job.trigger.cron or "", job.trigger.timezone),
                    args=(job.name, portal),
                    id=f"cron:{portal}:{job.name}",
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=60,
                )
        for portal in self.s.portals:
            minutes = self.s.portal_settings(portal).reconcile.every_minutes
            if minutes:
                self.scheduler.add_job(
                    self._reconcile,
                    IntervalTrigger(minutes=minutes, timezone=UTC),
                    args=(portal,),
                    id=f"reconcile:{portal}",
                    max_instances=1,
                    coalesce=True,
                    next_run_time=datetime.now(UTC) + timedelta(seconds=5),
                )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def jobs(self) -> list[dict[str, Any]]:
        return [{"id": j.id, "next_run": j.next_run_time} for j in self.scheduler.get_jobs()]

    def _portals(self, job: JobDef) -> list[str]:
        return [p for p in self.s.portals if job.serves(p)]

    async def _catch_up(self, job: JobDef, portal: str) -> None:
        key = f"cron:last:{portal}:{job.name}"
        store = self.s.queue.store
        last = await self.s.queue.run(store.get, key)
        now = datetime.now(UTC)
        if last is None:
            await self.s.queue.run(store.set, key, now.isoformat())
            return
        missed = next_fire(job.trigger.cron or "", job.trigger.timezone, datetime.fromisoformat(last))
        if missed is not None and missed <= now and job.trigger.catch_up == "once":
            log.info("cron %s on %s missed %s while down: running it once now", job.name, portal, missed)
            await self.s.queue.submit(
                job_run(portal, job.name, "catch-up", missed.isoformat(), self.s, delay=0)
            )
        await self.s.queue.run(store.set, key, now.isoformat())

    async def _fire(self, name: str, portal: str) -> None:
        try:
            now = datetime.now(UTC)
            await self.s.queue.submit(job_run(portal, name, "cron", now.isoformat(), self.s, delay=0))
            await self.s.queue.run(self.s.queue.store.set, f"cron:last:{portal}:{name}", now.isoformat())
            self.fired += 1
        except Exception:
            log.exception("cron %s on %s: could not queue the run", name, portal)

    async def _reconcile(self, portal: str) -> None:
        try:
            await self.s.queue.submit(job_run(portal, RECONCILE, "schedule", "", self.s, delay=0))
        except Exception:
            log.exception("reconcile %s: could not queue the scan", portal)

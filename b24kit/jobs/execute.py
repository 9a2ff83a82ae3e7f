"""Running one task: an event through the jobs that watch it, a robot call and its answer, a
job run (cron, manual, a sync set off by events), a due timer, an inbound webhook."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from b24kit.automation import EventRuleSpec, PortalEvent, RobotSpec, RuleContext, get_event_rule
from b24kit.automation.invoke import call_handler
from b24kit.errors import ConfigError, JobError
from b24kit.robots import answer, error_text, run_robot
from b24kit.robots.call import from_payload
from b24kit.sync.values import MISSING, get_path

from .actions import read_record, run_profile
from .inbox import Mark
from .jobset import JobDef
from .keys import event_from_payload
from .loader import resolve_hook
from .model import Inbound, Task
from .services import Services, retriable

log = logging.getLogger("b24kit.jobs")
RECONCILE = "@reconcile"
CRON_EVENT = "B24KIT_CRON"
TIMER_EVENT = "B24KIT_TIMER"


class Executor:
    """Runs tasks; raises what failed (the worker decides between retry and dead letter)."""

    def __init__(self, services: Services) -> None:
        self.s = services

    async def run(self, task: Task) -> Mark | None:
        if task.kind == "event":
            return await self._event(task)
        if task.kind == "robot":
            await self._robot(task)
        elif task.kind == "job":
            await self._job(task)
        elif task.kind == "timer":
            await self._timer(task)
        elif task.kind == "webhook":
            await self._webhook(task)
        else:
            raise JobError(f"unknown task kind {task.kind!r}")
        return None

    # events -------------------------------------------------------------------------------

    async def _event(self, task: Task) -> Mark | None:
        event = event_from_payload(task.payload)
        jobs = self.s.jobs.for_event(task.portal, event.name)
        done = set(task.progress.get("done", []))
        ctx, client = self.s.context(task.portal)
        fields, previous = await self._record_state(task, event, jobs, client)
        for job in jobs:
            if job.name in done:
                continue
            if all(c.holds(fields, previous) for c in job.trigger.when):
                task.progress["job"] = job.name  # whose retry policy applies if this fails
                await self._act(job, event, ctx, task)
            done.add(job.name)
            if len(done) < len(jobs):
                task.progress["done"] = sorted(done)
                await self.s.queue.save_progress(task)
        if task.record_key is None:
            return None
        watched = {c.field for j in jobs for c in j.trigger.when}
        snapshot = {f: v for f in watched if (v := get_path(fields, f)) is not MISSING} if watched else None
        return (task.record_key, float(event.ts or task.created_at), snapshot)

    async def _record_state(
        self, task: Task, event: PortalEvent, jobs: list[JobDef], client: Any
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The record's fields (read once, only when a condition needs them) and those last seen."""
        fields: dict[str, Any] = dict(event.data.get("FIELDS") or {}) if isinstance(event.data, dict) else {}
        conditions = [c for j in jobs for c in j.trigger.when]
        if not conditions or task.record_key is None:
            return fields, None
        entity, ident = task.record_key.split(":")[-2:]
        if not event.name.endswith("DELETE"):
            fields = await read_record(client, entity, int(ident)) or fields
        previous: dict[str, Any] | None = None
        if any(c.operator == "changed" for c in conditions):
            seen_ts, seen = await self.s.queue.run(self.s.queue.store.record, task.portal, task.record_key)
            previous = seen if seen_ts or seen else None
        return fields, previous

    async def _act(self, job: JobDef, event: PortalEvent, ctx: RuleContext, task: Task) -> None:
        """Run the job's action for one event. A sync profile with its own trigger for the event
        syncs just the event's record, here; otherwise its whole (incremental) run is queued as a
        task of its own, which later events merge into."""
        if job.action.sync is not None:
            if event.name in job.sync_events and event.entity_id is not None:
                await self.run_action(job, task.portal, event, task, scope=(event.name, [event.entity_id]))
            else:
                await self.s.queue.submit(job_run(task.portal, job.name, "event", event.name, self.s))
            return
        fn = job.hook if job.action.hook else job.handler.handler if job.handler else None
        if fn is None:
            raise JobError(f"job {job.name!r} has nothing to run")
        await call_handler(fn, event, replace(ctx, job=job.info()), job.settings)

    # robots -------------------------------------------------------------------------------

    async def _robot(self, task: Task) -> None:
        call = from_payload(task.payload)
        if "answer" not in task.progress:
            task.progress["answer"] = await self._robot_values(task, call)
            task.progress["answer_from"] = task.attempts
            await self.s.queue.save_progress(task)
        await self.send_answer(task)

    async def _robot_values(self, task: Task, call: Any) -> dict[str, Any]:
        job = self.s.jobs.robot(task.portal, call.code)
        if job is None or job.robot is None:
            return {"error": f"no job on portal {task.portal!r} serves robot {call.code!r}"}
        ctx, _ = self.s.context(task.portal, job)
        handler = (
            job.hook
            if job.action.hook
            else job.handler.handler
            if isinstance(job.handler, RobotSpec)
            else None
        )
        if handler is None:
            return {"error": f"robot {call.code!r} has no handler"}
        try:
            values = await run_robot(
                call, ctx, handler, properties=job.robot.properties, settings=job.settings
            )
        except Exception as exc:
            if retriable(exc):
                raise
            return {"error": error_text(exc)}
        return {"values": _jsonable(values)}

    async def send_answer(self, task: Task) -> None:
        """``bizproc.event.send`` with what ``progress["answer"]`` holds."""
        call = from_payload(task.payload)
        stored = task.progress["answer"]
        outcome = await answer(
            self.s.clients.get(task.portal), call, values=stored.get("values"), error=stored.get("error")
        )
        task.progress["answered"] = outcome
        self.s.metrics.inc(
            "b24kit_runner_robot_answers_total", outcome="error" if "error" in stored else outcome
        )

    # jobs, timers, webhooks ---------------------------------------------------------------

    async def _job(self, task: Task) -> None:
        name = str(task.payload.get("job") or task.name)
        if name == RECONCILE:
            from .reconcile import reconcile

            task.progress["reconciled"] = await reconcile(task.portal, self.s)
            return
        job = self.s.jobs.get(name)
        if job is None:
            raise JobError(f"no job named {name!r} (was it removed from the job files?)")
        await self.run_action(job, task.portal, PortalEvent(CRON_EVENT, dict(task.payload)), task)

    async def run_action(
        self,
        job: JobDef,
        portal: str,
        event: PortalEvent,
        task: Task,
        scope: tuple[str, list[Any]] | None = None,
    ) -> None:
        if job.action.sync is not None and job.profile is not None:
            lock = self.s.profile_lock(job.profile)
            if lock.locked():
                log.info("task %s: %s waits for the profile's run in progress", task.id, job.profile.name)
            async with lock:  # runs of one profile never overlap (a webhook's and the schedule's)
                task.progress["sync"] = await run_profile(
                    job.profile,
                    portal=self.s.clients.config(portal),
                    state_url=self.s.settings.runner.sync_state,
                    full=job.action.full,
                    input_file=job.input,
                    event=scope or (_records(event) if task.kind == "webhook" else None),
                )
            return
        ctx, _ = self.s.context(portal, job)
        fn = job.hook if job.action.hook else job.handler.handler if job.handler else None
        if fn is None:
            raise JobError(f"job {job.name!r} has nothing to run")
        await call_handler(fn, event, ctx, job.settings)

    async def _timer(self, task: Task) -> None:
        action = str(task.payload.get("action") or task.name)
        data = {"key": task.payload.get("key"), **dict(task.payload.get("payload") or {})}
        event = PortalEvent(TIMER_EVENT, data)
        job = self.s.jobs.get(action)
        if job is not None:
            await self.run_action(job, task.portal, event, task)
            return
        ctx, _ = self.s.context(task.portal)
        if ":" in action:
            await call_handler(resolve_hook(action), event, ctx, None)
            return
        try:
            rule: EventRuleSpec = get_event_rule(action)
        except ConfigError as exc:
            raise JobError(f"timer {data['key']!r}: {exc.message}") from None
        configured = self.s.jobs.with_rule(task.portal, action)
        settings = (
            configured.settings if configured is not None else rule.settings() if rule.settings else None
        )
        if configured is not None:
            ctx = replace(ctx, job=configured.info())
        await call_handler(rule.handler, event, ctx, settings)

    async def _webhook(self, task: Task) -> None:
        source, name = str(task.payload.get("source")), str(task.payload.get("event"))
        data = task.payload.get("data")
        event = PortalEvent(name, dict(data) if isinstance(data, Mapping) else {})
        done = set(task.progress.get("done", []))
        for job in self.s.jobs.for_webhook(source, name):
            if job.name in done:
                continue
            task.progress["job"] = job.name
            await self.run_action(job, task.portal, event, task)
            done.add(job.name)
            task.progress["done"] = sorted(done)


def job_run(
    portal: str, name: str, reason: str, detail: str, services: Services, delay: float | None = None
) -> Inbound:
    """A run of job ``name`` on ``portal``: one queued at a time, never two at once."""
    return job_run_item(
        portal, name, reason, detail, services.settings.runner.debounce_seconds if delay is None else delay
    )


def job_run_item(portal: str, name: str, reason: str, detail: str, delay: float) -> Inbound:
    key = f"{portal}:job:{name}"
    return Inbound(
        portal=portal,
        kind="job",
        name=name,
        payload={"job": name, "reason": reason, "detail": detail, "at": datetime.now(UTC).isoformat()},
        record_key=key,
        merge_key=key,
        delay=delay,
    )


def _records(event: PortalEvent) -> tuple[str, list[Any]]:
    """A webhook's event name and the ids of the records it is about (a sync runs just those)."""
    return event.name, list(event.data.get("record_ids") or [])


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list | tuple):
            out[key] = [_scalar(v) for v in value]
        else:
            out[key] = _scalar(value)
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)

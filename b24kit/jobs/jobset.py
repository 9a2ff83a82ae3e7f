"""Loaded jobs, looked up by what triggers them: an event on a portal, a robot code, a schedule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from b24kit.automation import EventRuleSpec, JobInfo, RobotSpec
from b24kit.robots.definitions import RobotDefinition

from .spec import Action, JobSpec, Trigger


@dataclass(frozen=True)
class JobDef:
    """A validated job with everything resolved: the handler, its settings, the files it names."""

    spec: JobSpec
    source: Path
    trigger: Trigger
    action: Action
    settings: Any  # the rule's settings model instance, a dict for hooks, None for sync
    handler: RobotSpec | EventRuleSpec | None  # for rule actions
    hook: Any  # the callable for hook actions
    robot: RobotDefinition | None  # for robot triggers
    profile: Path | None  # for sync actions
    input: Path | None
    sync_events: frozenset[str] = frozenset()  # events the profile's own triggers scope to one record

    @property
    def name(self) -> str:
        return self.spec.name

    def info(self) -> JobInfo:
        """What its handler learns of the job (``ctx.job``): the name, the job file's folder, and
        the cron trigger's time zone."""
        return self._info

    @cached_property
    def _info(self) -> JobInfo:  # resolved once: the path lookups cost more than the task
        zone = self.trigger.timezone if self.trigger.kind == "cron" else None
        return JobInfo(self.name, self.source.resolve().parent, zone)

    def serves(self, portal: str) -> bool:
        return self.spec.enabled and (not self.spec.portals or portal in self.spec.portals)


class JobSet:
    """Every job the runner knows."""

    def __init__(self, jobs: Iterable[JobDef] = ()) -> None:
        self.jobs = list(jobs)
        self._by_name = {job.name: job for job in self.jobs}

    def __len__(self) -> int:
        return len(self.jobs)

    def get(self, name: str) -> JobDef | None:
        return self._by_name.get(name)

    def for_event(self, portal: str, name: str) -> list[JobDef]:
        return [
            j
            for j in self.jobs
            if j.serves(portal) and j.trigger.kind == "event" and name in j.trigger.event_names
        ]

    def for_webhook(self, source: str, event: str) -> list[JobDef]:
        """Jobs on webhook ``source`` for ``event``; other systems' event names are kept as given
        in the job and compared without regard to case (``jira:issue_updated``)."""
        wanted = event.casefold()
        return [
            j
            for j in self.jobs
            if j.spec.enabled
            and j.trigger.webhook == source
            and (not j.trigger.event_names or any(e.casefold() == wanted for e in j.trigger.event_names))
        ]

    def robot(self, portal: str, code: str) -> JobDef | None:
        return next((j for j in self.jobs if j.serves(portal) and j.robot and j.robot.code == code), None)

    def robots(self, portal: str) -> list[RobotDefinition]:
        return [j.robot for j in self.jobs if j.serves(portal) and j.robot is not None]

    def events(self, portal: str) -> list[str]:
        names: dict[str, None] = {}
        for job in self.jobs:
            if job.serves(portal) and job.trigger.kind == "event":
                names.update(dict.fromkeys(job.trigger.event_names))
        return list(names)

    def cron(self) -> list[JobDef]:
        return [j for j in self.jobs if j.spec.enabled and j.trigger.kind == "cron"]

    def with_rule(self, portal: str, rule: str) -> JobDef | None:
        return next((j for j in self.jobs if j.serves(portal) and j.action.rule == rule), None)

"""Job files (``jobs/*.yaml``), version 1: each job has a trigger and an action, per portal.

```yaml
version: 1
jobs:
  - name: required-fields
    trigger: {event: ONCRMDEALUPDATE, when: [{field: STAGE_ID, changed: true}]}
    action: {rule: required_fields, settings: {...}}
  - name: payment-schedule
    trigger: {robot: payment_schedule}           # action defaults to the robot of that code
  - name: nightly-contacts
    trigger: {cron: "0 3 * * *", timezone: Europe/Moscow}
    action: {sync: ../profiles/excel-contacts.yaml}
  - name: on-deal
    trigger: {event: ONCRMDEALADD}
    action: {hook: "mypackage.hooks:on_deal", settings: {any: thing}}
```
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from b24kit.robots.spec import RobotModel
from b24kit.sync.spec.conditions import Condition
from b24kit.sync.spec.triggers import check_cron, check_timezone

JOBS_VERSION = 1
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_HOOK = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Trigger(_Spec):
    """Exactly one of ``event``/``events``, ``cron``, ``robot``, ``webhook``."""

    event: str | None = Field(None, description="A portal event: ONCRMDEALUPDATE, ONCRMDEALADD...")
    events: tuple[str, ...] = Field((), description="Several portal events.")
    when: tuple[Condition, ...] = Field((), description="Event triggers: all must hold for the record.")
    cron: str | None = Field(None, description="Five crontab fields, or @hourly, @daily, @weekly, @monthly.")
    timezone: str = Field("UTC", description="Cron: the IANA zone the schedule is read in.")
    catch_up: Literal["once", "skip"] = Field(
        "once", description="Cron: after downtime, run once for the missed times, or skip them."
    )
    robot: RobotModel | None = Field(None, description="A robot code, or {code, name, properties, ...}.")
    webhook: str | None = Field(None, description="An inbound webhook named in runner.webhooks.")

    @field_validator("robot", mode="before")
    @classmethod
    def _robot_code(cls, value: Any) -> Any:
        return {"code": value} if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _portal_event_names(cls, data: Any) -> Any:
        """Portal event names are upper case (ONCRMDEALUPDATE); other systems' keep theirs."""
        if not isinstance(data, dict) or data.get("webhook"):
            return data
        fixed = dict(data)
        if isinstance(fixed.get("event"), str):
            fixed["event"] = fixed["event"].strip().upper()
        if isinstance(fixed.get("events"), list | tuple):
            fixed["events"] = [e.strip().upper() if isinstance(e, str) else e for e in fixed["events"]]
        return fixed

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        kinds = [k for k in ("cron", "robot", "webhook") if getattr(self, k)]
        if self.event and self.events:
            raise ValueError("give either event or events, not both")
        if not kinds and (self.event or self.events):
            kinds.append("event")
        if len(kinds) != 1:
            given = ", ".join(kinds) or "none"
            raise ValueError(f"a trigger needs exactly one of event(s), cron, robot, webhook (got {given})")
        if kinds[0] in ("cron", "robot") and (self.event or self.events):
            raise ValueError(f"a {kinds[0]} trigger takes no event names")
        if self.when and self.kind != "event":
            raise ValueError("'when' conditions apply to event triggers only")
        return self

    @property
    def kind(self) -> Literal["event", "cron", "robot", "webhook"]:
        if self.cron:
            return "cron"
        if self.robot:
            return "robot"
        if self.webhook:
            return "webhook"
        return "event"

    @property
    def event_names(self) -> tuple[str, ...]:
        return (self.event,) if self.event else self.events


class Action(_Spec):
    """Exactly one of ``rule``, ``hook``, ``sync``."""

    rule: str | None = Field(None, description="A registered event rule or robot handler.")
    hook: str | None = Field(None, description="module:function, called like a rule.")
    sync: str | None = Field(None, description="A sync profile (path relative to this file).")
    settings: dict[str, Any] = Field(default_factory=dict, description="The rule's or hook's settings.")
    full: bool = Field(False, description="Sync: ignore the cursor and read everything.")
    input: str | None = Field(None, description="Sync: the source file (relative to this file).")

    @field_validator("hook")
    @classmethod
    def _hook(cls, value: str | None) -> str | None:
        if value is not None and not _HOOK.match(value):
            raise ValueError(f"{value!r} is not module:function (e.g. mypackage.hooks:on_deal)")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Action:
        kinds = [k for k in ("rule", "hook", "sync") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                f"an action needs exactly one of rule, hook, sync (got {', '.join(kinds) or 'none'})"
            )
        if self.sync is None and (self.full or self.input):
            raise ValueError("'full' and 'input' apply to sync actions only")
        if self.sync is not None and self.settings:
            raise ValueError("a sync action takes no settings (they live in the profile)")
        return self

    @property
    def kind(self) -> Literal["rule", "hook", "sync"]:
        return "rule" if self.rule else "hook" if self.hook else "sync"


class RetryOverride(_Spec):
    attempts: int | None = Field(None, ge=1, le=100)
    backoff: float | None = Field(None, gt=0)


class JobSpec(_Spec):
    """One job: when (trigger) and what (action), on which portals."""

    name: str = Field(min_length=1, max_length=100, description="Unique across job files.")
    description: str = ""
    enabled: bool = True
    portals: tuple[str, ...] = Field((), description="Default: every portal the runner serves.")
    trigger: Trigger | None = Field(None, description="Default for rule actions: the rule's own events.")
    action: Action | None = Field(None, description="Default for robot triggers: the robot of that code.")
    retry: RetryOverride | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("a job name has lower-case letters, digits, '_', '.', '-'")
        return value

    @model_validator(mode="after")
    def _defaults(self) -> JobSpec:
        if self.trigger is None and (self.action is None or self.action.rule is None):
            raise ValueError("a job needs a trigger (only a rule action can take its events from the rule)")
        if self.action is None and (self.trigger is None or self.trigger.kind != "robot"):
            raise ValueError("a job needs an action (only a robot trigger defaults to the robot's handler)")
        if self.trigger is not None and self.trigger.kind == "robot" and self.action and self.action.sync:
            raise ValueError("a robot runs a rule or a hook, not a sync profile")
        return self


class JobFile(_Spec):
    version: int
    jobs: tuple[JobSpec, ...] = ()

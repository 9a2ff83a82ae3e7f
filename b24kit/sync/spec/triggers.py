"""When a profile runs: a cron schedule and/or events with conditions (the runner acts on them)."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from .base import Spec
from .conditions import Condition

_FIELD_RANGES = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_NAMES = {
    "month": ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    "day of week": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}
_MACROS = {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"}
_ITEM = re.compile(r"^(\*|[a-z0-9]+(-[a-z0-9]+)?)(/\d+)?$")


def check_cron(expression: str) -> str:
    """Validate a 5-field crontab line (or an @macro); return it unchanged or raise ``ValueError``."""
    text = expression.strip()
    if text in _MACROS:
        return text
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"a cron schedule has 5 fields (minute hour day month weekday), got {len(parts)}")
    for part, (name, low, high) in zip(parts, _FIELD_RANGES, strict=True):
        for item in part.lower().split(","):
            _check_item(item, name, low, high)
    return text


def check_timezone(name: str) -> str:
    """Validate an IANA time zone name; return it unchanged or raise ``ValueError``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Moscow)") from None
    return name


def _check_item(item: str, name: str, low: int, high: int) -> None:
    if not _ITEM.match(item):
        raise ValueError(f"bad {name} field {item!r}")
    body = item.split("/")[0]
    if body == "*":
        return
    for bound in body.split("-"):
        number = _number(bound, name)
        if not low <= number <= high:
            raise ValueError(f"{name} {bound} is outside {low}-{high}")


def _number(token: str, name: str) -> int:
    if token.isdecimal():
        return int(token)
    names = _NAMES.get(name, [])
    if token[:3] in names:
        return names.index(token[:3]) + (1 if name == "month" else 0)
    raise ValueError(f"bad {name} value {token!r}")


class Schedule(Spec):
    """A cron schedule: ``"*/15 * * * *"`` or ``{cron: ..., timezone: Europe/Moscow}``."""

    cron: str = Field(description="Five crontab fields (minute hour day month weekday) or @daily etc.")
    timezone: str = Field("UTC", description="IANA zone the schedule is read in.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)


class EventTrigger(Spec):
    """Run for one record when a system reports an event about it and every condition holds."""

    event: str = Field(
        min_length=1,
        description="The event name as the system sends it: ONCRMDEALUPDATE, jira:issue_updated.",
    )
    side: Literal["source", "target"] = Field(
        "target", description="Which side's connector receives the event."
    )
    when: tuple[Condition, ...] = Field((), description="All must hold for the event's record.")


class Triggers(Spec):
    """A profile's triggers; with none, the profile runs only when asked (CLI)."""

    schedule: Schedule | None = None
    events: tuple[EventTrigger, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _schedule_shorthand(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("schedule"), str):
            return {**data, "schedule": {"cron": data["schedule"]}}
        return data

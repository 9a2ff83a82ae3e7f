"""Small handlers the runner tests register (imported by the runner through ``runner.plugins``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from b24kit.automation import PortalEvent, PropertySpec, RobotCall, RuleContext, event_rule, robot
from b24kit.errors import RobotError

MARK = "seen by b24kit"


class MarkSettings(BaseModel):
    text: str = MARK


@event_rule("test_mark_seen", events=("ONCRMDEALUPDATE", "ONCRMDEALADD"), settings=MarkSettings)
async def mark_seen(event: PortalEvent, ctx: RuleContext, settings: MarkSettings) -> None:
    """Converges: writes COMMENTS once; the echo of its own write changes nothing."""
    deal = await ctx.client.call("crm.deal.get", {"id": event.entity_id})
    if deal.get("COMMENTS") != settings.text:
        await ctx.client.call(
            "crm.deal.update", {"id": event.entity_id, "fields": {"COMMENTS": settings.text}}
        )


@event_rule("test_probability", events=("ONCRMDEALUPDATE",))
async def probability(event: PortalEvent, ctx: RuleContext, settings: Any) -> None:
    """S3-like: PROBABILITY from the stage; writes only when it differs."""
    deal = await ctx.client.call("crm.deal.get", {"id": event.entity_id})
    wanted = {"NEW": "10", "PREPARATION": "30", "EXECUTING": "60", "WON": "100"}.get(deal["STAGE_ID"])
    if wanted is not None and str(deal.get("PROBABILITY") or "") != wanted:
        await ctx.client.call("crm.deal.update", {"id": event.entity_id, "fields": {"PROBABILITY": wanted}})


@robot(
    "test_echo",
    name={"ru": "Эхо", "en": "Echo"},
    properties={"text": PropertySpec("string", name="Text", required=True)},
    returns={"echo": PropertySpec("string", name="Echo")},
)
async def echo(call: RobotCall, ctx: RuleContext, settings: Any) -> dict[str, Any]:
    text = str(call.properties.get("text"))
    if text == "fail":
        raise RobotError("asked to fail")
    deal = await ctx.client.call("crm.deal.get", {"id": call.entity_id})
    return {"echo": f"{text.upper()} {deal['TITLE']}"}


@robot(
    "test_task",
    name="Task per deal",
    properties={"title": PropertySpec("string", name="Title", required=True)},
    returns={"task_id": PropertySpec("int", name="Task")},
)
async def task_per_deal(call: RobotCall, ctx: RuleContext, settings: Any) -> dict[str, Any]:
    """Idempotent: one task per deal and title, found again on a re-run."""
    title = f"{call.properties['title']} #{call.entity_id}"
    found = await ctx.client.call("tasks.task.list", {"filter": {"TITLE": title}, "select": ["ID"]})
    tasks = found.get("tasks") if isinstance(found, dict) else found
    if tasks:
        return {"task_id": int(tasks[0]["id"])}
    made = await ctx.client.call(
        "tasks.task.add",
        {"fields": {"TITLE": title, "RESPONSIBLE_ID": 1, "UF_CRM_TASK": [f"D_{call.entity_id}"]}},
    )
    return {"task_id": int(made["task"]["id"])}


seen_hooks: list[str] = []


async def record_hook(event: PortalEvent, ctx: RuleContext, settings: dict[str, Any]) -> None:
    seen_hooks.append(event.name)


async def nothing(event: PortalEvent, ctx: RuleContext, settings: dict[str, Any]) -> None:
    """A job that does nothing (the accept benchmark measures the intake, not the work)."""


FAIL = {"flaky": True}
fired: list[tuple[str, dict[str, Any]]] = []


async def flaky(event: PortalEvent, ctx: RuleContext, settings: dict[str, Any]) -> None:
    """Fails while ``FAIL["flaky"]`` is set (the test flips it), then records the event."""
    if FAIL["flaky"]:
        raise RuntimeError("flaky hook says no")
    fired.append((event.name, dict(event.data)))


async def remember(event: PortalEvent, ctx: RuleContext, settings: dict[str, Any]) -> None:
    """Records every event it gets (cron runs, timers, webhooks)."""
    fired.append((event.name, dict(event.data)))


async def set_timer(event: PortalEvent, ctx: RuleContext, settings: dict[str, Any]) -> None:
    """On a deal event: a durable timer ``settings["seconds"]`` later (``cancel: true`` cancels it)."""
    from datetime import timedelta

    key = f"deal:{event.entity_id}:reminder"
    if settings.get("cancel"):
        await ctx.timers.cancel(key)
        return
    due = ctx.now() + timedelta(seconds=float(settings.get("seconds", 1)))
    await ctx.timers.schedule(key, due, "tests.jobs.handlers:remember", {"deal": event.entity_id})


@event_rule("test_no_events", events=())
async def no_events(event: PortalEvent, ctx: RuleContext, settings: Any) -> None:
    """A rule that declares no events: a job must give it a trigger."""

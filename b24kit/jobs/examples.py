"""Hooks for trying the runner out (``action: {hook: "b24kit.jobs.examples:log_event"}``)."""

from __future__ import annotations

from typing import Any

from b24kit.automation import PortalEvent, RuleContext


async def log_event(event: PortalEvent, ctx: RuleContext, settings: dict[str, Any]) -> None:
    """Log what arrived (the record's id and the event's data), at the level ``settings["level"]``."""
    level = str(settings.get("level") or "info").upper()
    ctx.log.log(
        getattr(__import__("logging"), level, 20),
        "%s on %s: record %s, data %s",
        event.name,
        ctx.portal,
        event.entity_id,
        event.data,
    )

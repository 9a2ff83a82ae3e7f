"""Handlers the runner benchmark's jobs call (``bench/runner.py`` puts the repository on PYTHONPATH)."""

from __future__ import annotations

from typing import Any

from b24kit.automation import PortalEvent, RuleContext


async def nothing(event: PortalEvent, ctx: RuleContext, settings: dict[str, Any]) -> None:
    """The intake benchmark measures accepting events, not the work behind them."""


async def read_deal(event: PortalEvent, ctx: RuleContext, settings: dict[str, Any]) -> None:
    """What a rule on ONCRMDEALUPDATE does first: read the deal (once per run)."""
    await ctx.client.call("crm.deal.get", {"id": event.entity_id})

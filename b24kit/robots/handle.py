"""Run one robot call: check its properties, call the handler, check what it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from b24kit.automation import PropertySpec, RobotCall, RuleContext
from b24kit.automation.invoke import call_handler
from b24kit.errors import RobotError

from .properties import problems

Values = Mapping[str, Any] | None
# ``async def`` handlers are awaited; plain functions run in a worker thread, as event hooks do
Handler = Callable[[RobotCall, RuleContext, Any], Awaitable[Values] | Values]


async def run_robot(
    call: RobotCall,
    ctx: RuleContext,
    handler: Handler,
    *,
    properties: Mapping[str, PropertySpec],
    settings: Any = None,
) -> dict[str, Any]:
    """The handler's return values; :class:`RobotError` when the properties or the result are wrong.

    The handler may be ``async def`` (awaited) or a plain function (run in a worker thread).
    Other exceptions (portal failures, bugs) propagate to the runner, which retries or answers.
    """
    wrong = problems(call.properties, properties)
    if wrong:
        raise RobotError("; ".join(wrong))
    values = await call_handler(handler, call, ctx, settings)
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise RobotError(f"the robot handler returned {type(values).__name__}, not a map of return values")
    return {str(k): v for k, v in values.items()}

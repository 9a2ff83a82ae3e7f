"""Run one robot call: check its properties, call the handler, check what it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from b24kit.automation import PropertySpec, RobotCall, RuleContext
from b24kit.errors import RobotError

from .properties import problems

Handler = Callable[[RobotCall, RuleContext, Any], Awaitable[Mapping[str, Any]]]


async def run_robot(
    call: RobotCall,
    ctx: RuleContext,
    handler: Handler,
    *,
    properties: Mapping[str, PropertySpec],
    settings: Any = None,
) -> dict[str, Any]:
    """The handler's return values; :class:`RobotError` when the properties or the result are wrong.

    Other exceptions (portal failures, bugs) propagate to the runner, which retries or answers.
    """
    wrong = problems(call.properties, properties)
    if wrong:
        raise RobotError("; ".join(wrong))
    values = await handler(call, ctx, settings)
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise RobotError(f"the robot handler returned {type(values).__name__}, not a map of return values")
    return {str(k): v for k, v in values.items()}

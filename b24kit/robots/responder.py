"""The answer to a robot call: ``bizproc.event.send`` with the return values, or with the error
text in the log message, so the business process never hangs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

from b24kit.automation import RobotCall
from b24kit.client import AsyncClient
from b24kit.client._log import SECRETS
from b24kit.errors import AccessDenied

log = logging.getLogger("b24kit.robots")

MAX_LOG_MESSAGE = 2_000
Outcome = Literal["sent", "gone", "not waiting"]


def error_text(exc: BaseException | str) -> str:
    """What the business process log shows for a failure: one line, secrets masked, bounded."""
    text = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
    line = " ".join(SECRETS.mask(text).split())
    return line if len(line) <= MAX_LOG_MESSAGE else line[: MAX_LOG_MESSAGE - 1] + "…"


async def answer(
    client: AsyncClient,
    call: RobotCall,
    *,
    values: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> Outcome:
    """Send the answer once. ``gone``: the portal refused the token (already answered, or the
    run was stopped): nothing more can be sent. ``not waiting``: the robot was registered with
    ``USE_SUBSCRIPTION=N``, so the portal expects no answer.

    Transport and server failures propagate (the caller retries: the portal refuses a second
    answer, so sending again is safe).
    """
    if not call.use_subscription:
        return "not waiting"
    params: dict[str, Any] = {"event_token": call.event_token, "return_values": dict(values or {})}
    if error is not None:
        params["log_message"] = f"b24kit: {error_text(error)}"
    try:
        await client.call("bizproc.event.send", params, idempotent=True)
    except AccessDenied as exc:
        log.warning("robot %s, workflow %s: answer refused (%s)", call.code, call.workflow_id, exc.code)
        return "gone"
    return "sent"

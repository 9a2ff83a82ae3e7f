"""What a job does: run a sync profile, read the record an event is about."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from b24kit.client import AsyncClient, PortalConfig
from b24kit.errors import JobError, NotFound
from b24kit.sync.service import DEFAULT_STATE_URL, event_scope, execute, open_session

log = logging.getLogger("b24kit.jobs")

_GET = {"1": "crm.lead.get", "2": "crm.deal.get", "3": "crm.contact.get", "4": "crm.company.get"}


async def read_record(client: AsyncClient, entity: str, ident: int) -> dict[str, Any] | None:
    """The record an event names (``None`` when it is gone)."""
    try:
        if entity in _GET:
            found = await client.call(_GET[entity], {"id": ident})
        elif entity == "task":
            found = (await client.call("tasks.task.get", {"taskId": ident}) or {}).get("task")
        else:
            found = (await client.call("crm.item.get", {"entityTypeId": int(entity), "id": ident}) or {}).get(
                "item"
            )
    except NotFound:
        return None
    return dict(found) if isinstance(found, Mapping) else None


async def run_profile(
    profile: Path,
    *,
    portal: PortalConfig,
    state_url: str | None,
    full: bool,
    input_file: Path | None,
    event: tuple[str, Sequence[Any]] | None = None,
) -> dict[str, Any]:
    """Run a sync profile (in a thread: the sync engine blocks); a summary of its report.

    ``event`` (its name and record ids, from a webhook) limits the run to those records when the
    profile has a trigger for that event (:func:`~b24kit.sync.service.event_scope`).
    """

    def run() -> dict[str, Any]:
        with open_session(
            profile,
            env=os.environ,
            state_url=state_url or DEFAULT_STATE_URL,
            input_file=input_file,
            portal=portal,
        ) as session:
            only = event_scope(session.profile, *event) if event is not None else None
            report = execute(session, full=full, only=only)
        summary: dict[str, Any] = {"profile": report.profile, "run_id": report.run_id, **report.summary()}
        if report.guard:
            summary["guard"] = report.guard
        if report.failed:
            log.warning("sync %s: %s records failed", profile.name, report.failed)
        return summary

    try:
        return await asyncio.to_thread(run)
    except OSError as exc:
        raise JobError(f"sync {profile.name}: {exc}") from None

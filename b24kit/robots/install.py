"""``b24kit robots install``: register robots with ``bizproc.robot.add``, or update them, idempotently.

A second install of unchanged robots makes no write call: what was registered is fingerprinted in
the runner's state (a :class:`Fingerprints` store), and a robot the portal lists whose fingerprint
matches is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from b24kit.client import AsyncClient
from b24kit.errors import ApiError

from .definitions import RobotDefinition, digest

Action = Literal["added", "updated", "unchanged"]


class Fingerprints(Protocol):
    """Where the fingerprint of each registered robot is kept (per portal and code)."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class Installed:
    code: str
    action: Action
    handler_url: str


async def install(
    client: AsyncClient,
    robots: Sequence[RobotDefinition],
    *,
    handler_url: Callable[[str], str],
    fingerprints: Fingerprints,
    portal: str,
) -> list[Installed]:
    """Make the portal's robots match ``robots``: add the missing, update the changed."""
    present = set(await client.call("bizproc.robot.list") or [])
    done: list[Installed] = []
    for robot in robots:
        url = handler_url(robot.code)
        params = robot.params(url)
        key = f"robot:{portal}:{robot.code}"
        wanted = digest(params)
        if robot.code in present and fingerprints.get(key) == wanted:
            done.append(Installed(robot.code, "unchanged", url))
            continue
        action: Action = "updated" if robot.code in present else "added"
        if action == "added":
            try:
                await client.call("bizproc.robot.add", params)
            except ApiError as exc:
                if exc.code.upper() != "ERROR_ACTIVITY_ALREADY_INSTALLED":
                    raise
                action = "updated"
        if action == "updated":
            fields = {k: v for k, v in params.items() if k != "CODE"}
            await client.call("bizproc.robot.update", {"CODE": robot.code, "FIELDS": fields}, idempotent=True)
        fingerprints.set(key, wanted)
        done.append(Installed(robot.code, action, url))
    return done

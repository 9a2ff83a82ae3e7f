"""The job runner: the HTTP app for portal events and robot calls, the durable inbox, workers,
cron, durable timers, offline events and the reconciliation scan (``b24kit serve``).

Import the parts you need (``b24kit.jobs.runner.Runner``, ``b24kit.jobs.loader.load_jobs``...);
this package module stays light because ``b24kit.config`` embeds :mod:`.settings`.
"""

from __future__ import annotations

from .settings import RunnerPortal, RunnerSettings

__all__ = ["RunnerPortal", "RunnerSettings"]

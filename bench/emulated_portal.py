"""What the benchmarks share: an emulator in its own process, its admin API, peak memory.

The scripts run as ``python bench/NAME.py``, so this folder is on ``sys.path`` and they import it
as ``emulated_portal``.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


@contextmanager
def serving(command: list[str], what: str, **popen: Any) -> Iterator[str]:
    """Run ``command`` (a server that prints its URL as its first line); yields that URL and
    stops the server afterwards."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, **popen)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit(f"{what} did not start (exit code {process.poll()})")
        yield url
    finally:
        if process.stdout is not None:
            process.stdout.close()
        process.terminate()
        process.wait(timeout=30)


def b24kit_command(*args: str) -> list[str]:
    """``b24kit ARGS`` with the b24kit script of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("b24kit")), *args]


@contextmanager
def emulator(rate_limit: str = "cloud", *extra: str) -> Iterator[str]:
    """``b24kit emulator serve --port 0 --rate-limit RATE_LIMIT`` (a free port); yields its webhook URL."""
    command = b24kit_command("emulator", "serve", "--port", "0", "--rate-limit", rate_limit, *extra)
    with serving(command, "the emulator") as url:
        yield url


class Admin:
    """The emulator's admin API (``/_emulator/...``) and its webhook, for setting a portal up."""

    def __init__(self, webhook_url: str) -> None:
        self.url = webhook_url
        self.base = webhook_url.split("/rest/", 1)[0]
        self.http = httpx.Client(timeout=600)

    def __call__(self, path: str, body: dict[str, Any] | None = None, method: str | None = None) -> Any:
        verb = method or ("POST" if body is not None else "GET")
        response = self.http.request(verb, f"{self.base}/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def fresh_bucket(self, rate_limit: str = "cloud") -> None:
        """The given limits with an empty bucket, and zeroed request statistics."""
        self("limits", {"rate_limit": rate_limit, "reset_usage": True})
        self("stats", method="DELETE")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

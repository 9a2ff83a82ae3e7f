"""b24kit: a Bitrix24 integrator's toolkit (emulator, REST client, sync profiles, robots, jobs)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("b24kit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

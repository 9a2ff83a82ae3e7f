"""A faithful emulator of a Bitrix24 portal's REST API (v2), run in-process or over HTTP.

It imports nothing from the b24kit client: it speaks the wire formats the Bitrix24 docs
describe, so any client (fast-bitrix24, b24pysdk, b24kit's own) can be tested against it.
"""

from __future__ import annotations

from . import methods as _methods  # noqa: F401 - registers every REST method
from .app import create_app
from .portal import Portal, Settings

__all__ = ["Portal", "Settings", "create_app"]

"""Test helpers for b24kit and for users' own test suites: a running emulator as a fixture.

Installed as a pytest plugin (entry point ``pytest11``), it provides:

* ``b24_emulator``: a :class:`RunningEmulator` on a free port, reset before each test;
* ``b24_webhook_url``: its incoming-webhook URL (``http://127.0.0.1:PORT/rest/1/secret/``).
"""

from __future__ import annotations

from .emulator import RunningEmulator

__all__ = ["RunningEmulator"]

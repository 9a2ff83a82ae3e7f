"""The fake's clock: real time or a time set by a test, and Jira's timestamp format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_MS = timedelta(milliseconds=1)


class FakeClock:
    """Real UTC time until a test sets it; then frozen there until set or advanced again.

    ``stamp()`` gives the time of a change: never earlier than the last stamp plus a
    millisecond, so ``updated`` moves forward on every change even with a frozen clock.
    """

    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._last: datetime | None = None

    def now(self) -> datetime:
        return self._frozen if self._frozen is not None else datetime.now(UTC)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the fake's clock takes an aware datetime")
        self._frozen = when.astimezone(UTC)
        self._last = None

    def advance(self, seconds: float) -> None:
        self._frozen = self.now() + timedelta(seconds=seconds)

    def stamp(self) -> datetime:
        now = self.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last is not None and now <= self._last:
            now = self._last + _MS
        self._last = now
        return now


def render(when: datetime | None, zone: ZoneInfo) -> str | None:
    """``2024-05-01T13:00:30.000+0300``: Jira's timestamp, in the reader's time zone."""
    if when is None:
        return None
    local = when.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)

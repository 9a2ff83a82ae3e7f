"""The portal's clock: real time plus an offset the admin API can move forward."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y")


def parse_offset(text: str) -> timezone:
    """Parse ``+03:00``/``-0500``/``UTC`` into a fixed-offset timezone."""
    text = text.strip()
    if text.upper() in ("UTC", "Z", ""):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text.lstrip("+-").replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


class Clock:
    """Wall-clock time of the portal, shifted by ``offset`` seconds (``POST /_emulator/clock``)."""

    def __init__(self, tz: timezone = UTC, offset: float = 0.0) -> None:
        self.tz = tz
        self.offset = offset
        self.frozen: float | None = None  # real time at which the clock was stopped

    def time(self) -> float:
        return (time.time() if self.frozen is None else self.frozen) + self.offset

    def freeze(self, stop: bool) -> None:
        """Stop the clock (only ``advance`` moves it then) or restart it from where it stood."""
        if stop and self.frozen is None:
            self.frozen = time.time()
        elif not stop and self.frozen is not None:
            self.offset += self.frozen - time.time()
            self.frozen = None

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), self.tz)

    def iso(self, ts: float | None = None) -> str:
        moment = self.now() if ts is None else datetime.fromtimestamp(ts, self.tz)
        return moment.replace(microsecond=0).isoformat()

    def to_portal_iso(self, value: object) -> str | None:
        """Normalise a date or datetime given by a caller to ISO-8601 in the portal's offset.

        Accepts ISO with or without an offset, ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` and the
        Russian locale ``DD.MM.YYYY``; returns ``None`` for empty or unparseable input.
        """
        moment = self.parse(value)
        return None if moment is None else moment.replace(microsecond=0).isoformat()

    def parse(self, value: object) -> datetime | None:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day, tzinfo=self.tz)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, self.tz)
        elif isinstance(value, str) and value.strip():
            moment_or_none = _parse_text(value.strip())
            if moment_or_none is None:
                return None
            moment = moment_or_none
        else:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)


def _parse_text(text: str) -> datetime | None:
    candidate = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - the portal's zone is applied after
        except ValueError:
            continue
    return None

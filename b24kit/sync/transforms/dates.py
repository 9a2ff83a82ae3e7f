"""Built-in date transforms: ``date`` (a calendar day) and ``datetime`` (an instant with a zone)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from b24kit.sync.spec.triggers import check_timezone
from b24kit.sync.values import is_empty, parse_datetime

from .base import Transform, TransformContext

_EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel serial dates have no zone


class DateOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    formats: tuple[str, ...] = Field(
        ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y"),
        description="strptime formats tried in order after ISO 8601; the first is also used to write back.",
    )
    output: str = Field("iso", description="'iso' (YYYY-MM-DD) or a strftime format.")
    timezone: str = Field("UTC", description="IANA zone for values without an offset (datetime).")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)


def parse_moment(value: Any, formats: tuple[str, ...]) -> datetime:
    """A datetime from a typed cell, an Excel serial number, ISO 8601 text or one of ``formats``."""
    if isinstance(value, datetime | date):
        parsed = parse_datetime(value)
        assert parsed is not None
        return parsed
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if 0 < value < 2958466:  # Excel's serial day numbers, 1900-01-01 .. 9999-12-31
            return _EXCEL_EPOCH + timedelta(days=float(value))
        raise ValueError(f"{value!r} is not a date")
    text = str(value).strip()
    parsed = parse_datetime(text)
    if parsed is not None:
        return parsed
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - the zone is applied by the caller
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (expected ISO 8601 or {', '.join(formats)})")


class _Calendar(Transform):
    """What ``date`` and ``datetime`` share: their options, the output format, and comparing two
    values by the day or instant they stand for."""

    Options: ClassVar[type[BaseModel]] = DateOptions
    reversible: ClassVar[bool] = True

    @property
    def opts(self) -> DateOptions:
        assert isinstance(self.options, DateOptions)
        return self.options

    def _meaning(self, value: Any) -> date:
        """The day or instant ``value`` stands for (``ValueError`` if it is not a date)."""
        raise NotImplementedError

    def _output(self, moment: date) -> str:
        return moment.isoformat() if self.opts.output == "iso" else moment.strftime(self.opts.output)

    def same(self, desired: Any, current: Any) -> bool:
        if is_empty(desired) or is_empty(current):
            return is_empty(desired) and is_empty(current)
        try:
            return self._meaning(desired) == self._meaning(current)
        except ValueError:
            return False


class Date(_Calendar):
    """A calendar day from typed cells, Excel serials, ISO or the given formats; written as YYYY-MM-DD."""

    name: ClassVar[str] = "date"

    def _meaning(self, value: Any) -> date:
        return parse_moment(value, (*self.opts.formats, self.opts.output)).date()

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        return self._output(parse_moment(value, self.opts.formats).date())

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        if is_empty(value):
            return None
        day = parse_moment(value, self.opts.formats).date()
        return day.strftime(self.opts.formats[0]) if self.opts.formats else day.isoformat()


class DateTime(_Calendar):
    """An instant; values without an offset are read in ``timezone``; written as ISO 8601 with offset."""

    name: ClassVar[str] = "datetime"

    def _aware(self, value: Any) -> datetime:
        formats = (*self.opts.formats, "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")
        moment = parse_moment(value, formats)
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(self.opts.timezone))

    def _meaning(self, value: Any) -> date:
        return self._aware(value)

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        return self._output(self._aware(value))

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        if is_empty(value):
            return None
        return self._aware(value).astimezone(ZoneInfo(self.opts.timezone)).isoformat()

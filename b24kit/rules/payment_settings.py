"""Settings of the payment-schedule robot (S1): what a job's ``settings:`` may say."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .texts import check_texts

TEXT_KEYS = (
    "invoice_title",
    "send_task_title",
    "send_task_description",
    "check_task_title",
    "check_task_description",
)
_KEY_PREFIX = re.compile(r"[A-Za-z0-9._-]{1,40}")


class TaskSpec(BaseModel):
    """One of the two tasks made per invoice."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    responsible: int | Literal["deal"] = "deal"  # a user ID, or the deal's responsible user
    days: int = Field(0, ge=-366, le=366)  # deadline relative to the payment date (-3: three days before)
    time: dt.time = dt.time(18, 0)  # deadline time of day, in the portal's time zone


class PaymentScheduleSettings(BaseModel):
    """How invoices and tasks are made from a schedule; every field has a working default."""

    model_config = ConfigDict(extra="forbid")

    key_prefix: str = "b24kit.ps"  # invoices' xmlId is PREFIX:DEAL:N, tasks' XML_ID PREFIX:DEAL:N:send|check
    tolerance: Decimal = Field(Decimal("0.01"), ge=0)  # |sum - deal amount| allowed, in the deal currency
    tolerance_percent: Decimal = Field(Decimal(0), ge=0, le=100)  # or this share of the deal amount
    allow_past_dates: bool = False
    allow_same_day: bool = False  # two payments on one date
    max_payments: int = Field(36, ge=1, le=500)
    invoice_category_id: int | None = None  # smart-invoice pipeline; None: the default one
    invoice_stage_id: str | None = None  # stage of new invoices; None: the pipeline's first
    closed_stages: list[str] = []  # invoice stages never changed; []: paid and declined (DT31_n:P, :D)
    removed_payments: Literal["delete", "keep"] = "delete"  # unpaid invoices of payments no longer listed
    send_task: TaskSpec = TaskSpec(days=-3)
    check_task: TaskSpec = TaskSpec(days=1)
    language: str | None = None  # ru | en; None: the portal's (RuleContext.language)
    texts: dict[str, str] = {}  # overrides of the default texts, by key (see b24kit.rules.texts)

    @model_validator(mode="before")
    @classmethod
    def _merge_task_blocks(cls, data: Any) -> Any:
        """A task block given as a mapping is merged over the default block, so
        ``send_task: {time: "10:00"}`` keeps ``days: -3`` (a ``TaskSpec`` object is taken whole)."""
        if not isinstance(data, Mapping):
            return data
        merged = dict(data)
        for key in ("send_task", "check_task"):
            given = merged.get(key)
            if isinstance(given, Mapping):
                default: TaskSpec = cls.model_fields[key].default
                merged[key] = {**default.model_dump(exclude_unset=True), **given}
        return merged

    @field_validator("key_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _KEY_PREFIX.fullmatch(value):
            raise ValueError("use 1-40 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("texts")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, TEXT_KEYS)

    def is_closed(self, stage: str) -> bool:
        """True for an invoice stage whose invoices are left alone (paid or declined)."""
        if self.closed_stages:
            return stage in self.closed_stages
        return stage.endswith((":P", ":D"))

"""Payment schedule (S1), pure part: check a schedule and plan the invoice and task writes.

The planner compares what should exist (one smart invoice per payment, two tasks per invoice)
with what exists (found by their keys: ``xmlId`` ``PREFIX:DEAL:N`` on invoices, ``XML_ID``
``PREFIX:DEAL:N:send|check`` on tasks) and returns only the differences, so planning again
after the plan was applied gives an empty plan.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from . import texts
from .links import record_link
from .payment_settings import PaymentScheduleSettings, TaskSpec
from .schedule_input import Payment, ScheduleError
from .templates import render

KINDS = ("send", "check")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class DealInfo:
    id: int
    title: str
    amount: Decimal
    currency: str
    company_id: int
    contact_ids: tuple[int, ...]
    assigned_by: int
    tz: timezone = UTC  # the portal's offset, for task deadlines


@dataclass(frozen=True)
class InvoiceState:
    """A smart invoice found by its key, as the portal has it."""

    id: int
    number: int
    title: str
    amount: Decimal
    due: date | None
    currency: str
    company_id: int
    contact_ids: tuple[int, ...]
    parent_deal: int
    stage: str


@dataclass(frozen=True)
class TaskState:
    """A task found by its key, as the portal has it."""

    id: int
    number: int
    kind: str
    title: str
    description: str
    responsible: int
    deadline: datetime | None
    bindings: tuple[str, ...]
    done: bool


@dataclass(frozen=True)
class TaskDraft:
    """A task to add, or (``existing``) to re-point, once its invoice exists; ``invoice_id`` is
    ``None`` when that invoice is created by the same plan."""

    payment: Payment
    kind: str
    invoice_id: int | None
    existing: TaskState | None = None


@dataclass
class Plan:
    invoice_adds: list[tuple[Payment, dict[str, Any]]] = field(default_factory=list)
    invoice_updates: list[tuple[InvoiceState, dict[str, Any]]] = field(default_factory=list)
    invoice_deletes: list[InvoiceState] = field(default_factory=list)
    task_adds: list[TaskDraft] = field(default_factory=list)
    task_updates: list[tuple[TaskState, dict[str, Any]]] = field(default_factory=list)
    task_deletes: list[TaskState] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    invoice_ids: dict[int, int] = field(default_factory=dict)  # payment number -> existing invoice

    @property
    def empty(self) -> bool:
        return not (
            self.invoice_adds
            or self.invoice_updates
            or self.invoice_deletes
            or self.task_adds
            or self.task_updates
            or self.task_deletes
        )


@dataclass(frozen=True)
class Desired:
    """What the invoices and tasks of one deal's schedule should look like."""

    deal: DealInfo
    settings: PaymentScheduleSettings
    count: int
    base_url: str
    language: str

    def invoice_key(self, number: int) -> str:
        return f"{self.settings.key_prefix}:{self.deal.id}:{number}"

    def task_key(self, number: int, kind: str) -> str:
        return f"{self.invoice_key(number)}:{kind}"

    def _values(self, payment: Payment) -> dict[str, object]:
        return {
            "number": payment.number,
            "count": self.count,
            "deal_id": self.deal.id,
            "deal_title": self.deal.title,
            "amount": texts.money(payment.amount, self.language),
            "currency": self.deal.currency,
            "due_date": texts.day(payment.due, self.language),
        }

    def invoice_fields(self, payment: Payment) -> dict[str, Any]:
        """The fields compared and updated (``crm.item`` camelCase names)."""
        title = texts.text("invoice_title", self.language, self.settings.texts)
        return {
            "title": render(title, self._values(payment)),
            "opportunity": payment.amount,
            "closedate": payment.due,
            "currencyId": self.deal.currency,
            "companyId": self.deal.company_id,
            "contactIds": sorted(self.deal.contact_ids),
            "parentId2": self.deal.id,
        }

    def new_invoice_fields(self, payment: Payment) -> dict[str, Any]:
        fields = {
            **self.invoice_fields(payment),
            "xmlId": self.invoice_key(payment.number),
            "assignedById": self.deal.assigned_by,
            "isManualOpportunity": "Y",
        }
        if self.settings.invoice_category_id is not None:
            fields["categoryId"] = self.settings.invoice_category_id
        if self.settings.invoice_stage_id:
            fields["stageId"] = self.settings.invoice_stage_id
        return fields

    def spec(self, kind: str) -> TaskSpec:
        return self.settings.send_task if kind == "send" else self.settings.check_task

    def task_fields(self, payment: Payment, kind: str, invoice_id: int) -> dict[str, Any]:
        """The fields compared and updated (``tasks.task.*`` UPPER names)."""
        spec = self.spec(kind)
        values = {
            **self._values(payment),
            "invoice_id": invoice_id,
            "deal_link": record_link(self.base_url, "deal", self.deal.id),
            "invoice_link": record_link(self.base_url, "invoice", invoice_id),
        }
        title = texts.text(f"{kind}_task_title", self.language, self.settings.texts)
        body = texts.text(f"{kind}_task_description", self.language, self.settings.texts)
        deadline = datetime.combine(payment.due + timedelta(days=spec.days), spec.time, self.deal.tz)
        return {
            "TITLE": render(title, values),
            "DESCRIPTION": render(body, values),
            "RESPONSIBLE_ID": self.deal.assigned_by if spec.responsible == "deal" else spec.responsible,
            "DEADLINE": deadline,
            "UF_CRM_TASK": [f"D_{self.deal.id}", f"SI_{invoice_id}"],
        }

    def new_task_fields(self, payment: Payment, kind: str, invoice_id: int) -> dict[str, Any]:
        return {**self.task_fields(payment, kind, invoice_id), "XML_ID": self.task_key(payment.number, kind)}


def check_schedule(
    payments: Sequence[Payment],
    deal: DealInfo,
    settings: PaymentScheduleSettings,
    *,
    today: date,
    kept: Mapping[int, InvoiceState] | None = None,
) -> None:
    """Raise :class:`ScheduleError` listing every problem; ``kept`` are invoices by payment number
    that need no change (a past date is fine for those)."""
    kept = kept or {}
    problems: list[str] = []
    if not payments:
        raise ScheduleError("the schedule is empty: give at least one payment")
    if len(payments) > settings.max_payments:
        problems.append(f"{len(payments)} payments; at most {settings.max_payments} are allowed")
    for p in payments:
        if p.amount <= 0:
            problems.append(f"payment {p.number}: the amount must be positive, not {p.amount}")
        elif p.amount != p.amount.quantize(_CENT):
            problems.append(f"payment {p.number}: {p.amount} has more than two decimals")
    for before, after in itertools.pairwise(payments):
        if after.due < before.due or (after.due == before.due and not settings.allow_same_day):
            problems.append(
                f"payment {after.number} ({after.due}) is not after payment {before.number} ({before.due}): "
                "dates must ascend"
            )
    if not settings.allow_past_dates:
        for p in payments:
            if p.due < today and p.number not in kept:
                problems.append(f"payment {p.number} is due {p.due}, in the past (today is {today})")
    total = sum((p.amount for p in payments), Decimal(0))
    allowed = max(settings.tolerance, (deal.amount * settings.tolerance_percent / 100).quantize(_CENT))
    if abs(total - deal.amount) > allowed:
        problems.append(
            f"the payments add up to {total:.2f}, the deal amount is {deal.amount:.2f} "
            f"(difference {abs(total - deal.amount):.2f}, tolerance {allowed:.2f})"
        )
    if problems:
        raise ScheduleError("; ".join(problems))


def plan(
    payments: Sequence[Payment],
    desired: Desired,
    invoices: Iterable[InvoiceState],
    tasks: Iterable[TaskState],
    *,
    today: date,
) -> Plan:
    """Check ``payments`` and plan the writes that make the portal match them."""
    settings = desired.settings
    out = Plan()
    by_number, extra = _by_number(invoices)
    kept = {  # invoices whose date stays: a past date is no reason to refuse the schedule
        n: inv
        for n, inv in by_number.items()
        if settings.is_closed(inv.stage) or (n <= len(payments) and inv.due == payments[n - 1].due)
    }
    check_schedule(payments, desired.deal, settings, today=today, kept=kept)
    task_index, extra_tasks = _tasks_by_key(tasks)
    for payment in payments:
        _plan_payment(out, desired, payment, by_number.get(payment.number), task_index)
    for inv in [inv for n, inv in by_number.items() if n > len(payments)] + extra:
        _plan_removed(out, settings, inv, task_index)
    out.task_deletes.extend(t for t in extra_tasks if not t.done)
    if settings.removed_payments == "delete":  # tasks of removed payments whose invoice is gone
        orphans = [t for (n, _), t in task_index.items() if n > len(payments) and n not in by_number]
        out.task_deletes.extend(t for t in orphans if not t.done)
    return out


def _plan_payment(
    out: Plan,
    desired: Desired,
    payment: Payment,
    invoice: InvoiceState | None,
    tasks: dict[tuple[int, str], TaskState],
) -> None:
    settings = desired.settings
    if invoice is None:
        out.invoice_adds.append((payment, desired.new_invoice_fields(payment)))
    else:
        out.invoice_ids[payment.number] = invoice.id
        if settings.is_closed(invoice.stage):
            if invoice.amount != payment.amount or invoice.due != payment.due:
                out.notes.append(
                    f"invoice {invoice.id} (payment {payment.number}) is closed on stage {invoice.stage}: "
                    f"left at {invoice.amount:.2f} due {invoice.due}, though the schedule says "
                    f"{payment.amount:.2f} due {payment.due}"
                )
            return
        changes = invoice_changes(invoice, desired.invoice_fields(payment))
        if changes:
            out.invoice_updates.append((invoice, changes))
    for kind in KINDS:
        if not desired.spec(kind).enabled:
            continue
        task = tasks.pop((payment.number, kind), None)
        if task is None:
            out.task_adds.append(TaskDraft(payment, kind, invoice.id if invoice else None))
        elif task.done:
            continue
        elif invoice is None:  # its invoice was deleted by hand and is made again: re-point the task
            out.task_adds.append(TaskDraft(payment, kind, None, existing=task))
        else:
            changes = task_changes(task, desired.task_fields(payment, kind, invoice.id))
            if changes:
                out.task_updates.append((task, changes))


def _plan_removed(
    out: Plan,
    settings: PaymentScheduleSettings,
    invoice: InvoiceState,
    tasks: dict[tuple[int, str], TaskState],
) -> None:
    if settings.is_closed(invoice.stage):
        out.notes.append(
            f"invoice {invoice.id} (payment {invoice.number}) is closed on stage {invoice.stage}: "
            "kept, though the schedule no longer lists it"
        )
    elif settings.removed_payments == "delete":
        out.invoice_deletes.append(invoice)
        out.notes.append(
            f"deleted invoice {invoice.id}: payment {invoice.number} is no longer in the schedule"
        )
        for kind in KINDS:
            task = tasks.get((invoice.number, kind))
            if task is not None and not task.done and f"SI_{invoice.id}" in task.bindings:
                out.task_deletes.append(tasks.pop((invoice.number, kind)))
    else:
        out.notes.append(f"kept invoice {invoice.id}: payment {invoice.number} is no longer in the schedule")


def invoice_changes(invoice: InvoiceState, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``wanted`` whose values differ from the invoice's."""
    have: dict[str, Any] = {
        "title": _text(invoice.title),
        "opportunity": invoice.amount,
        "closedate": invoice.due,
        "currencyId": invoice.currency,
        "companyId": invoice.company_id,
        "contactIds": sorted(invoice.contact_ids),
        "parentId2": invoice.parent_deal,
    }
    return {k: v for k, v in wanted.items() if have.get(k) != (_text(v) if k == "title" else v)}


def task_changes(task: TaskState, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``wanted`` whose values differ from the task's (texts compared trimmed,
    bindings as sets, deadlines as instants)."""
    have: dict[str, Any] = {
        "TITLE": _text(task.title),
        "DESCRIPTION": _text(task.description),
        "RESPONSIBLE_ID": task.responsible,
        "DEADLINE": task.deadline,
        "UF_CRM_TASK": sorted(task.bindings),
    }
    out = {}
    for key, value in wanted.items():
        if key == "UF_CRM_TASK":
            same = sorted(value) == have[key]
        elif key in ("TITLE", "DESCRIPTION"):
            same = _text(value) == have[key]
        else:
            same = have.get(key) == value
        if not same:
            out[key] = value
    return out


def _text(value: str) -> str:
    return value.replace("\r\n", "\n").strip()


def _by_number(invoices: Iterable[InvoiceState]) -> tuple[dict[int, InvoiceState], list[InvoiceState]]:
    """One invoice per payment number (the oldest); later duplicates are returned apart."""
    by_number: dict[int, InvoiceState] = {}
    extra: list[InvoiceState] = []
    for inv in sorted(invoices, key=lambda i: i.id):
        if inv.number in by_number:
            extra.append(inv)
        else:
            by_number[inv.number] = inv
    return by_number, extra


def _tasks_by_key(tasks: Iterable[TaskState]) -> tuple[dict[tuple[int, str], TaskState], list[TaskState]]:
    index: dict[tuple[int, str], TaskState] = {}
    extra: list[TaskState] = []
    for task in sorted(tasks, key=lambda t: t.id):
        if (task.number, task.kind) in index:
            extra.append(task)
        else:
            index[(task.number, task.kind)] = task
    return index, extra

"""Payment schedule (S1): a deal robot that makes one smart invoice and two tasks per payment.

The robot reads the schedule from its properties (text lines, or a count with dates and
amounts), reads the deal, its keyed invoices and its tasks in one batch, plans the differences
(:mod:`b24kit.rules.payment_plan`) and writes them in at most two batches: invoices (and task
changes), then the tasks of new invoices. It answers with the invoice IDs in payment order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timezone
from decimal import Decimal
from typing import Any

from b24kit.automation import PropertySpec, RobotCall, RuleContext, robot
from b24kit.client import BatchResult, Command
from b24kit.errors import ApiError, AuthError, NotFound, Retriable, RobotError, TransportError

from . import payment_plan as pp
from .links import portal_base
from .payment_settings import PaymentScheduleSettings
from .schedule_input import Payment, ScheduleError, parse_fields, parse_text
from .texts import language_of

INVOICE = 31
_INVOICE_SELECT = [
    "id",
    "xmlId",
    "title",
    "opportunity",
    "closedate",
    "currencyId",
    "companyId",
    "contactIds",
    "parentId2",
    "stageId",
]
_TASK_SELECT = ["ID", "TITLE", "DESCRIPTION", "RESPONSIBLE_ID", "DEADLINE", "STATUS", "XML_ID", "UF_CRM_TASK"]
_DONE = {"4", "5"}  # awaiting control, completed

PROPERTIES = {
    "schedule": PropertySpec(
        "text",
        name={"ru": "График платежей", "en": "Payment schedule"},
        description={
            "ru": "По платежу в строке: дата и сумма, например 01.12.2026 50 000,00",
            "en": "One payment per line: date and amount, e.g. 2026-12-01 50000.00",
        },
    ),
    "count": PropertySpec("int", name={"ru": "Количество платежей", "en": "Number of payments"}),
    "dates": PropertySpec("date", name={"ru": "Даты платежей", "en": "Payment dates"}, multiple=True),
    "amounts": PropertySpec("double", name={"ru": "Суммы платежей", "en": "Payment amounts"}, multiple=True),
}
RETURNS = {
    "invoice_ids": PropertySpec("int", name={"ru": "Счета", "en": "Invoice IDs"}, multiple=True),
    "summary": PropertySpec("text", name={"ru": "Что сделано", "en": "What was done"}),
}


class TransientWriteError(RobotError, Retriable):
    """Some writes failed for a reason that passes (portal limits, 5xx, the network, refused
    credentials): the runner runs the robot again, which finds what was written by its keys and
    finishes the rest. Once its attempts are used up, the text is the answer."""


@dataclass
class ScheduleResult:
    """What a run did: invoice IDs by payment, write counts, and notes on what was left alone."""

    invoice_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    writes: int = 0

    @property
    def summary(self) -> str:
        if not self.writes:
            head = f"nothing to change: {len(self.invoice_ids)} invoices match the schedule"
        else:
            head = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v)
        return "; ".join([head, *self.notes])


@robot(
    "payment_schedule",
    name={"ru": "График платежей: счета и задачи", "en": "Payment schedule: invoices and tasks"},
    description={
        "ru": "Создаёт счёт и две задачи на каждый платёж графика; повторный запуск обновляет их",
        "en": "Creates an invoice and two tasks per payment; running it again brings them up to date",
    },
    properties=PROPERTIES,
    returns=RETURNS,
    settings=PaymentScheduleSettings,
)
async def payment_schedule(call: RobotCall, ctx: RuleContext, settings: Any) -> dict[str, Any]:
    """The robot: the schedule from the call's properties, applied to the call's deal."""
    if call.entity_type_id != 2 or call.entity_id is None:
        raise RobotError(f"the payment schedule runs on deals, not on {call.document_id[2]!r}")
    result = await apply_schedule(ctx, _settings(settings), call.entity_id, read_payments(call.properties))
    return {"invoice_ids": result.invoice_ids, "summary": result.summary}


def read_payments(properties: Mapping[str, Any]) -> list[Payment]:
    """The schedule from robot properties: ``schedule`` text, or ``count``/``dates``/``amounts``."""
    raw = properties.get("schedule")
    text = "\n".join(map(str, raw)) if isinstance(raw, list) else str(raw or "")
    fields = [properties.get(k) for k in ("count", "dates", "amounts")]
    has_fields = any(v not in (None, "", [], {}) for v in fields)
    if text.strip() and has_fields:
        raise ScheduleError("give the schedule either as text or as count, dates and amounts, not both")
    if text.strip():
        return parse_text(text)
    if has_fields:
        return parse_fields(*fields)
    raise ScheduleError(
        "no schedule: fill in 'schedule' (one 'DATE AMOUNT' per line) or count, dates and amounts"
    )


async def apply_schedule(
    ctx: RuleContext, settings: PaymentScheduleSettings, deal_id: int, payments: list[Payment]
) -> ScheduleResult:
    """Make the deal's invoices and tasks match ``payments``; nothing is written when the schedule
    is refused (:class:`ScheduleError`) or already applied."""
    deal, invoices, tasks = await _read(ctx, settings, deal_id)
    language = language_of(settings.language or ctx.language)
    desired = pp.Desired(deal, settings, len(payments), portal_base(ctx), language)
    today = ctx.now().astimezone(deal.tz).date()
    plan = pp.plan(payments, desired, invoices, tasks, today=today)
    new_ids, first = await _write_invoices(ctx, plan)
    second = await _write_tasks(ctx, desired, plan, new_ids)
    _raise_for_errors(first, second)
    ids = [plan.invoice_ids.get(p.number) or new_ids[p.number] for p in payments]
    counts = {
        "invoices created": len(plan.invoice_adds),
        "invoices updated": len(plan.invoice_updates),
        "invoices deleted": len(plan.invoice_deletes),
        "tasks created": sum(1 for d in plan.task_adds if d.existing is None),
        "tasks updated": len(plan.task_updates) + sum(1 for d in plan.task_adds if d.existing),
        "tasks deleted": len(plan.task_deletes),
    }
    return ScheduleResult(ids, counts, plan.notes, sum(counts.values()))


async def _read(
    ctx: RuleContext, settings: PaymentScheduleSettings, deal_id: int
) -> tuple[pp.DealInfo, list[pp.InvoiceState], list[pp.TaskState]]:
    prefix = f"{settings.key_prefix}:{deal_id}:"
    invoice_params = {"entityTypeId": INVOICE, "filter": {"=%xmlId": prefix + "%"}, "select": _INVOICE_SELECT}
    task_params = {"filter": {"UF_CRM_TASK": f"D_{deal_id}"}, "select": _TASK_SELECT}
    res = await ctx.client.batch(
        {
            "deal": Command("crm.item.get", {"entityTypeId": 2, "id": deal_id}),
            "invoices": Command("crm.item.list", {**invoice_params, "order": {"id": "ASC"}}),
            "tasks": Command("tasks.task.list", {**task_params, "order": {"ID": "ASC"}}),
        }
    )
    if isinstance(res.errors.get("deal"), NotFound):
        raise RobotError(f"deal {deal_id} not found")
    res.raise_for_errors()
    deal = parse_deal(res.results["deal"]["item"])
    invoice_rows = res.results["invoices"]["items"]
    if res.totals.get("invoices", 0) > len(invoice_rows):
        invoice_rows = [r async for r in ctx.client.iter_list("crm.item.list", invoice_params)]
    task_rows = res.results["tasks"]["tasks"]
    if res.totals.get("tasks", 0) > len(task_rows):
        task_rows = [r async for r in ctx.client.iter_list("tasks.task.list", task_params)]
    invoices = [inv for row in invoice_rows if (inv := parse_invoice(row, prefix)) is not None]
    tasks = [task for row in task_rows if (task := parse_task(row, prefix)) is not None]
    return deal, invoices, tasks


async def _write_invoices(ctx: RuleContext, plan: pp.Plan) -> tuple[dict[int, int], BatchResult]:
    commands: dict[str, Command] = {}
    for payment, fields in plan.invoice_adds:
        commands[f"inv_add_{payment.number}"] = Command(
            "crm.item.add", {"entityTypeId": INVOICE, "fields": fields}
        )
    for inv, changes in plan.invoice_updates:
        commands[f"inv_upd_{inv.id}"] = Command(
            "crm.item.update", {"entityTypeId": INVOICE, "id": inv.id, "fields": changes}, idempotent=True
        )
    for inv in plan.invoice_deletes:
        commands[f"inv_del_{inv.id}"] = Command("crm.item.delete", {"entityTypeId": INVOICE, "id": inv.id})
    for task, changes in plan.task_updates:
        commands[f"task_upd_{task.id}"] = Command(
            "tasks.task.update", {"taskId": task.id, "fields": changes}, idempotent=True
        )
    for task in plan.task_deletes:
        commands[f"task_del_{task.id}"] = Command("tasks.task.delete", {"taskId": task.id})
    res = await ctx.client.batch(commands) if commands else BatchResult()
    new_ids = {
        payment.number: int(res.results[label]["item"]["id"])
        for payment, _ in plan.invoice_adds
        if (label := f"inv_add_{payment.number}") in res.results
    }
    return new_ids, res


async def _write_tasks(
    ctx: RuleContext, desired: pp.Desired, plan: pp.Plan, new_ids: dict[int, int]
) -> BatchResult:
    commands: dict[str, Command] = {}
    for draft in plan.task_adds:
        invoice_id = draft.invoice_id or new_ids.get(draft.payment.number)
        if invoice_id is None:
            continue  # its invoice failed; the error is reported with the first batch
        label = f"task_{draft.payment.number}_{draft.kind}"
        if draft.existing is None:
            fields = desired.new_task_fields(draft.payment, draft.kind, invoice_id)
            commands[label] = Command("tasks.task.add", {"fields": fields})
        else:
            changes = pp.task_changes(
                draft.existing, desired.task_fields(draft.payment, draft.kind, invoice_id)
            )
            commands[label] = Command(
                "tasks.task.update", {"taskId": draft.existing.id, "fields": changes}, idempotent=True
            )
    return await ctx.client.batch(commands) if commands else BatchResult()


def _raise_for_errors(*results: BatchResult) -> None:
    """Failed writes as one error naming them: :class:`TransientWriteError` when any of them may
    pass (the runner retries; a retry repeats nothing that was written), else :class:`RobotError`
    (a refusal such as bad input, access or a missing record: answered at once)."""
    failed = [(label, err) for res in results for label, err in res.errors.items()]
    if not failed:
        return
    errors = [f"{label}: {err}" for label, err in failed]
    message = (
        f"{len(errors)} writes failed ({'; '.join(errors[:5])}); run the robot again to finish: "
        "what was written is kept and not repeated"
    )
    if any(_transient(err) for _, err in failed):
        raise TransientWriteError(message)
    raise RobotError(message)


def _transient(error: ApiError | TransportError) -> bool:
    return isinstance(error, Retriable | AuthError)


def _settings(raw: Any) -> PaymentScheduleSettings:
    if isinstance(raw, PaymentScheduleSettings):
        return raw
    return PaymentScheduleSettings.model_validate(raw or {})


# -- portal rows -> planner states ------------------------------------------------------------


def parse_deal(item: Mapping[str, Any]) -> pp.DealInfo:
    """A ``crm.item.get`` deal (camelCase) as the planner needs it."""
    return pp.DealInfo(
        id=int(item["id"]),
        title=str(item.get("title") or ""),
        amount=_decimal(item.get("opportunity")),
        currency=str(item.get("currencyId") or ""),
        company_id=_int(item.get("companyId")),
        contact_ids=tuple(sorted(_int(c) for c in item.get("contactIds") or [])),
        assigned_by=_int(item.get("assignedById")),
        tz=_offset(item.get("createdTime") or item.get("updatedTime")),
    )


def parse_invoice(row: Mapping[str, Any], prefix: str) -> pp.InvoiceState | None:
    """A smart invoice whose ``xmlId`` is ``prefix`` + a payment number; else ``None``."""
    key = str(row.get("xmlId") or "")
    number = key[len(prefix) :]
    if not key.startswith(prefix) or not number.isdecimal():
        return None
    return pp.InvoiceState(
        id=int(row["id"]),
        number=int(number),
        title=str(row.get("title") or ""),
        amount=_decimal(row.get("opportunity")),
        due=_date(row.get("closedate")),
        currency=str(row.get("currencyId") or ""),
        company_id=_int(row.get("companyId")),
        contact_ids=tuple(sorted(_int(c) for c in row.get("contactIds") or [])),
        parent_deal=_int(row.get("parentId2")),
        stage=str(row.get("stageId") or ""),
    )


def parse_task(row: Mapping[str, Any], prefix: str) -> pp.TaskState | None:
    """A task whose ``XML_ID`` is ``prefix`` + ``N:send`` or ``N:check``; else ``None``."""
    key = str(row.get("xmlId") or "")
    number, _, kind = key[len(prefix) :].partition(":")
    if not key.startswith(prefix) or not number.isdecimal() or kind not in pp.KINDS:
        return None
    deadline = row.get("deadline")
    return pp.TaskState(
        id=int(row["id"]),
        number=int(number),
        kind=kind,
        title=str(row.get("title") or ""),
        description=str(row.get("description") or ""),
        responsible=_int(row.get("responsibleId")),
        deadline=datetime.fromisoformat(deadline) if deadline else None,
        bindings=tuple(str(b) for b in row.get("ufCrmTask") or []),
        done=str(row.get("status")) in _DONE,
    )


def _int(value: Any) -> int:
    try:
        return int(str(value or 0))
    except ValueError:
        return 0


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _date(value: Any) -> date | None:
    """The date of a date-only field. Portals render those as a datetime: midnight in the portal's
    offset, or midnight UTC shown in that offset (``2024-08-30T02:00:00+02:00``); both read right."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None or (moment.hour, moment.minute) == (0, 0):
        return moment.date()
    return moment.astimezone(UTC).date()


def _offset(value: Any) -> timezone:
    try:
        tz = datetime.fromisoformat(str(value)).tzinfo
    except ValueError:
        return UTC
    offset = tz.utcoffset(None) if tz is not None else None
    return timezone(offset) if offset is not None else UTC

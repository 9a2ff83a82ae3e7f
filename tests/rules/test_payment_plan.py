"""The payment-schedule planner, pure: checks, sums, order, and re-planning an applied plan."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24kit.rules import payment_plan as pp
from b24kit.rules.payment_settings import PaymentScheduleSettings, TaskSpec
from b24kit.rules.schedule_input import Payment, ScheduleError

TODAY = date(2026, 11, 22)
MSK = timezone(timedelta(hours=3))


def deal(amount: Decimal, **kw) -> pp.DealInfo:
    values = {
        "id": 7,
        "title": "Big deal",
        "amount": amount,
        "currency": "RUB",
        "company_id": 3,
        "contact_ids": (4, 5),
        "assigned_by": 2,
        "tz": MSK,
    }
    return pp.DealInfo(**{**values, **kw})


def desired(d: pp.DealInfo, count: int, s: PaymentScheduleSettings | None = None) -> pp.Desired:
    return pp.Desired(d, s or PaymentScheduleSettings(), count, "https://x.bitrix24.ru", "en")


@dataclasses.dataclass
class State:
    """A portal as the planner sees it: invoices and tasks, changed by applying plans."""

    invoices: dict[int, pp.InvoiceState] = dataclasses.field(default_factory=dict)
    tasks: dict[int, pp.TaskState] = dataclasses.field(default_factory=dict)
    next_id: int = 100

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def apply(self, plan: pp.Plan, want: pp.Desired) -> None:
        new_ids = {}
        for payment, fields in plan.invoice_adds:
            inv_id = self.new_id()
            new_ids[payment.number] = inv_id
            self.invoices[inv_id] = pp.InvoiceState(
                inv_id, payment.number, fields["title"], fields["opportunity"], fields["closedate"],
                fields["currencyId"], fields["companyId"], tuple(fields["contactIds"]), fields["parentId2"],
                "DT31_1:N",
            )  # fmt: skip
        names = {"title": "title", "opportunity": "amount", "closedate": "due", "currencyId": "currency",
                 "companyId": "company_id", "parentId2": "parent_deal"}  # fmt: skip
        for inv, changes in plan.invoice_updates:
            values = {names[k]: v for k, v in changes.items() if k in names}
            if "contactIds" in changes:
                values["contact_ids"] = tuple(changes["contactIds"])
            self.invoices[inv.id] = dataclasses.replace(self.invoices[inv.id], **values)
        for inv in plan.invoice_deletes:
            del self.invoices[inv.id]
        for task, changes in plan.task_updates:
            self._update_task(task.id, changes)
        for task in plan.task_deletes:
            del self.tasks[task.id]
        for draft in plan.task_adds:
            invoice_id = draft.invoice_id or new_ids[draft.payment.number]
            fields = want.task_fields(draft.payment, draft.kind, invoice_id)
            if draft.existing:
                self._update_task(draft.existing.id, pp.task_changes(draft.existing, fields))
            else:
                task_id = self.new_id()
                self.tasks[task_id] = pp.TaskState(
                    task_id, draft.payment.number, draft.kind, fields["TITLE"], fields["DESCRIPTION"],
                    fields["RESPONSIBLE_ID"], fields["DEADLINE"], tuple(fields["UF_CRM_TASK"]), False,
                )  # fmt: skip

    def _update_task(self, task_id: int, changes: dict[str, Any]) -> None:
        names = {"TITLE": "title", "DESCRIPTION": "description", "RESPONSIBLE_ID": "responsible",
                 "DEADLINE": "deadline"}  # fmt: skip
        values = {names[k]: v for k, v in changes.items() if k in names}
        if "UF_CRM_TASK" in changes:
            values["bindings"] = tuple(changes["UF_CRM_TASK"])
        self.tasks[task_id] = dataclasses.replace(self.tasks[task_id], **values)

    def plan(self, payments, want: pp.Desired) -> pp.Plan:
        return pp.plan(payments, want, self.invoices.values(), self.tasks.values(), today=TODAY)


@st.composite
def schedules(draw: st.DrawFn, start: date = TODAY) -> list[Payment]:
    gaps = draw(st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=12))
    out, due = [], start
    for number, gap in enumerate(gaps, start=1):
        due += timedelta(days=gap)
        out.append(Payment(number, due, Decimal(draw(st.integers(min_value=1, max_value=10**9))) / 100))
    return out


def total(payments) -> Decimal:
    return sum((p.amount for p in payments), Decimal(0))


@given(schedules())
def test_first_plan_makes_an_invoice_and_two_tasks_per_payment(payments):
    d = deal(total(payments))
    want = desired(d, len(payments))
    plan = State().plan(payments, want)
    assert [p.number for p, _ in plan.invoice_adds] == list(range(1, len(payments) + 1))
    assert sum(f["opportunity"] for _, f in plan.invoice_adds) == d.amount
    dues = [f["closedate"] for _, f in plan.invoice_adds]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)
    assert len({f["xmlId"] for _, f in plan.invoice_adds}) == len(payments)
    assert all(
        f["parentId2"] == 7 and f["companyId"] == 3 and f["contactIds"] == [4, 5]
        for _, f in plan.invoice_adds
    )
    assert sorted((t.payment.number, t.kind) for t in plan.task_adds) == sorted(
        (p.number, k) for p in payments for k in ("send", "check")
    )
    assert not (plan.invoice_updates or plan.invoice_deletes or plan.task_updates or plan.task_deletes)


@settings(max_examples=60)
@given(schedules(), schedules(), st.sets(st.integers(min_value=1, max_value=12), max_size=3))
def test_applied_plans_replan_empty_and_edits_converge(first, second, paid_numbers):
    amount = total(first)
    second = [dataclasses.replace(p, amount=p.amount) for p in second]
    # scale the second schedule's last payment so that both add up to the same deal amount
    diff = amount - total(second[:-1])
    if diff <= 0:
        second = [Payment(1, second[0].due, amount)]
    else:
        second[-1] = dataclasses.replace(second[-1], amount=diff)
    d = deal(amount)
    state = State()
    state.apply(state.plan(first, desired(d, len(first))), desired(d, len(first)))
    assert state.plan(first, desired(d, len(first))).empty

    paid = {i.id for i in state.invoices.values() if i.number in paid_numbers}
    for inv_id in paid:
        state.invoices[inv_id] = dataclasses.replace(state.invoices[inv_id], stage="DT31_1:P")
    before_paid = {i: state.invoices[i] for i in paid}
    want = desired(d, len(second))
    state.apply(state.plan(second, want), want)
    again = state.plan(second, want)
    assert again.empty, again

    assert {i: state.invoices[i] for i in paid} == before_paid  # paid invoices untouched
    open_invoices = {i.number: i for i in state.invoices.values() if i.id not in paid}
    for p in second:
        if p.number in open_invoices:
            assert (open_invoices[p.number].amount, open_invoices[p.number].due) == (p.amount, p.due)
        else:
            assert any(i.number == p.number for i in before_paid.values())
    assert all(n <= len(second) for n in open_invoices)  # removed payments' unpaid invoices deleted
    for task in state.tasks.values():
        assert f"D_{d.id}" in task.bindings
        invoice_ids = [b for b in task.bindings if b.startswith("SI_")]
        assert len(invoice_ids) == 1 and int(invoice_ids[0][3:]) in state.invoices


def test_task_fields_follow_the_settings():
    payment = Payment(2, date(2026, 12, 10), Decimal("50000.5"))
    s = PaymentScheduleSettings(send_task=TaskSpec(days=-5, responsible=9), check_task=TaskSpec(days=2))
    want = desired(deal(Decimal("100000")), 2, s)
    send = want.new_task_fields(payment, "send", 55)
    check = want.task_fields(payment, "check", 55)
    assert send["DEADLINE"] == datetime(2026, 12, 5, 18, 0, tzinfo=MSK)
    assert send["RESPONSIBLE_ID"] == 9 and check["RESPONSIBLE_ID"] == 2
    assert check["DEADLINE"] == datetime(2026, 12, 12, 15, 0, tzinfo=UTC)
    assert send["UF_CRM_TASK"] == ["D_7", "SI_55"] and send["XML_ID"] == "b24kit.ps:7:2:send"
    assert send["TITLE"] == "Send invoice 2 for deal “Big deal”"
    assert (
        "50,000.50 RUB" in send["DESCRIPTION"]
        and "https://x.bitrix24.ru/crm/type/31/details/55/" in send["DESCRIPTION"]
    )


def test_russian_texts_and_overrides():
    payment = Payment(1, date(2026, 12, 1), Decimal("50000"))
    ru = pp.Desired(deal(Decimal(50000)), PaymentScheduleSettings(), 1, "https://x", "ru")
    assert ru.invoice_fields(payment)["title"] == "Счёт 1 из 1 по сделке «Big deal»"
    assert "50 000,00 RUB" in ru.task_fields(payment, "send", 1)["DESCRIPTION"]
    s = PaymentScheduleSettings(texts={"invoice_title": "{deal_title} / {number} / {due_date}"})
    assert desired(deal(Decimal(50000)), 1, s).invoice_fields(payment)["title"] == "Big deal / 1 / 2026-12-01"


@pytest.mark.parametrize(
    ("payments", "amount", "kw", "reason"),
    [
        ([], "100", {}, "the schedule is empty"),
        (
            [("2026-12-01", "60"), ("2026-12-02", "30")],
            "100",
            {},
            "add up to 90.00, the deal amount is 100.00",
        ),
        (
            [("2026-12-02", "50"), ("2026-12-01", "50")],
            "100",
            {},
            "payment 2 (2026-12-01) is not after payment 1",
        ),
        ([("2026-12-01", "50"), ("2026-12-01", "50")], "100", {}, "dates must ascend"),
        (
            [("2026-11-01", "100")],
            "100",
            {},
            "payment 1 is due 2026-11-01, in the past (today is 2026-11-22)",
        ),
        ([("2026-12-01", "0")], "0", {}, "payment 1: the amount must be positive"),
        ([("2026-12-01", "100.005")], "100.005", {"tolerance": "1"}, "more than two decimals"),
        ([("2026-12-01", "50"), ("2026-12-02", "50")], "100", {"max_payments": 1}, "at most 1 are allowed"),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(payments, amount, kw, reason):
    schedule = [Payment(i, date.fromisoformat(d), Decimal(a)) for i, (d, a) in enumerate(payments, start=1)]
    s = PaymentScheduleSettings(**kw)
    with pytest.raises(ScheduleError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        State().plan(schedule, desired(deal(Decimal(amount)), len(schedule), s))


def test_tolerance_past_dates_and_same_day_are_settings():
    schedule = [Payment(1, date(2026, 11, 1), Decimal("50")), Payment(2, date(2026, 11, 1), Decimal("49.50"))]
    s = PaymentScheduleSettings(tolerance_percent=Decimal(1), allow_past_dates=True, allow_same_day=True)
    plan = State().plan(schedule, desired(deal(Decimal(100)), 2, s))
    assert len(plan.invoice_adds) == 2


def test_a_past_date_already_invoiced_does_not_block_an_edit():
    d = deal(Decimal(100))
    state = State()
    first = [Payment(1, date(2026, 11, 1), Decimal(50)), Payment(2, date(2026, 12, 1), Decimal(50))]
    relaxed = PaymentScheduleSettings(allow_past_dates=True)
    state.apply(state.plan(first, desired(d, 2, relaxed)), desired(d, 2, relaxed))
    edited = [first[0], Payment(2, date(2026, 12, 5), Decimal(30)), Payment(3, date(2027, 1, 5), Decimal(20))]
    plan = state.plan(edited, desired(d, 3))  # past dates not allowed now: payment 1 keeps its date
    assert [p.number for p, _ in plan.invoice_adds] == [3]
    assert {inv.number for inv, _ in plan.invoice_updates} == {1, 2}  # titles say "of 3" now


def test_removed_payments_are_kept_when_configured_and_noted():
    d = deal(Decimal(100))
    state = State()
    first = [Payment(1, date(2026, 12, 1), Decimal(50)), Payment(2, date(2026, 12, 2), Decimal(50))]
    state.apply(state.plan(first, desired(d, 2)), desired(d, 2))
    keep = PaymentScheduleSettings(removed_payments="keep")
    plan = state.plan([Payment(1, date(2026, 12, 1), Decimal(100))], desired(d, 1, keep))
    assert not plan.invoice_deletes and not plan.task_deletes
    assert any("kept invoice" in n and "payment 2" in n for n in plan.notes)


def test_done_tasks_are_left_alone_and_missing_ones_made_again():
    d = deal(Decimal(100))
    state = State()
    schedule = [Payment(1, date(2026, 12, 1), Decimal(100))]
    want = desired(d, 1)
    state.apply(state.plan(schedule, want), want)
    send = next(t for t in state.tasks.values() if t.kind == "send")
    check = next(t for t in state.tasks.values() if t.kind == "check")
    state.tasks[send.id] = dataclasses.replace(send, done=True, title="renamed by hand")
    del state.tasks[check.id]
    plan = state.plan(schedule, want)
    assert [(t.kind, t.existing) for t in plan.task_adds] == [("check", None)]
    assert not plan.task_updates


def test_a_partial_task_block_keeps_the_other_defaults():
    """``send_task: {time: "10:00"}`` changes the time and keeps the default ``days: -3``."""
    s = PaymentScheduleSettings.model_validate(
        {"send_task": {"time": "10:00"}, "check_task": {"responsible": 5}}
    )
    assert (s.send_task.days, s.send_task.time, s.send_task.responsible) == (-3, time(10, 0), "deal")
    assert (s.check_task.days, s.check_task.time, s.check_task.responsible) == (1, time(18, 0), 5)
    assert PaymentScheduleSettings.model_validate({"send_task": {"days": 0}}).send_task.days == 0
    assert PaymentScheduleSettings.model_validate({}).send_task.days == -3
    payment = Payment(1, date(2026, 12, 10), Decimal("100000"))
    send = desired(deal(Decimal("100000")), 1, s).new_task_fields(payment, "send", 55)
    assert send["DEADLINE"] == datetime(2026, 12, 7, 10, 0, tzinfo=MSK)

"""The completeness report (S2) on the emulated portal: per-user notifications and the workbook."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from b24kit.automation import JobInfo, PortalEvent, get_event_rule
from b24kit.automation.registry import load_plugins
from b24kit.errors import Retriable
from b24kit.jobs.loader import load_jobs
from b24kit.rules.completeness import TransientNotifyError, completeness_report, run_completeness_report
from b24kit.rules.required_model import RequiredFieldsSettings

SETTINGS = {
    "requirements": [
        {
            "pipeline": 0,
            "stages": ["EXECUTING"],
            "deal": ["OPPORTUNITY", "UF_CRM_CONTRACT"],
            "company": ["UF_CRM_INN"],
        },
        {"pipeline": 0, "stages": ["WON"], "contact": ["PHONE"]},
    ],
    "language": "en",
}
CRON = PortalEvent("B24KIT_CRON", {"job": "report", "reason": "cron", "at": "2026-12-01T08:00:00+00:00"})


def seed(portal) -> dict[str, int]:
    portal.user_field("company", "INN", "Tax number")
    portal.user_field("deal", "CONTRACT", "Contract")
    ids = {"anna": portal.add_user("Anna"), "boris": portal.add_user("Boris")}

    def add(kind: str, **fields) -> int:
        made: int = portal.rest(f"crm.{kind}.add", {"fields": fields})
        return made

    ids["deal_missing"] = add("deal", TITLE="No contract", OPPORTUNITY=10, ASSIGNED_BY_ID=ids["anna"])
    add("deal", TITLE="Complete", OPPORTUNITY=10, UF_CRM_CONTRACT="C-1", ASSIGNED_BY_ID=ids["anna"])
    add("deal", TITLE="Closed", STAGE_ID="WON", ASSIGNED_BY_ID=ids["anna"])
    ids["deal_empty"] = add("deal", TITLE="Empty", ASSIGNED_BY_ID=ids["boris"])
    ids["company_missing"] = add("company", TITLE="ACME", ASSIGNED_BY_ID=ids["anna"])
    add("company", TITLE="Globex", UF_CRM_INN="7701", ASSIGNED_BY_ID=ids["boris"])
    ids["contact_missing"] = add("contact", NAME="Ivan", LAST_NAME="Petrov", ASSIGNED_BY_ID=ids["anna"])
    add("contact", NAME="Olga", PHONE=[{"VALUE": "+7495", "VALUE_TYPE": "WORK"}], ASSIGNED_BY_ID=ids["boris"])
    return ids


def test_report_per_user_with_notifications_and_a_workbook(portal, tmp_path):
    ids = seed(portal)
    mark = portal.mark()
    report = portal.run(lambda ctx: completeness_report(ctx, SETTINGS, tmp_path / "out" / "report.xlsx"))
    assert portal.requests_since(mark) <= 7  # labels, three streamed lists, user names, notifications
    assert [(r.user_id, r.entity, r.record_id, r.missing) for r in report.rows] == [
        (ids["anna"], "deal", ids["deal_missing"], ("Contract",)),
        (ids["anna"], "company", ids["company_missing"], ("Tax number",)),
        (ids["anna"], "contact", ids["contact_missing"], ("Phone",)),
        (ids["boris"], "deal", ids["deal_empty"], ("Amount", "Contract")),
    ]
    assert report.users == {ids["anna"]: "Anna S", ids["boris"]: "Boris S"}
    assert sorted(report.notified) == [ids["anna"], ids["boris"]]
    notes = {n["USER_ID"]: n["MESSAGE"] for n in portal.emulator.admin("notifications")}
    link = f"https://example.bitrix24.ru/crm/deal/details/{ids['deal_missing']}/"
    base = "https://example.bitrix24.ru/crm"
    assert notes[ids["anna"]] == (
        "Incomplete cards: 3 (deals: 1, companies: 1, contacts: 1).\n"
        f"[url={link}]No contract[/url]: Contract\n"
        f"[url={base}/company/details/{ids['company_missing']}/]ACME[/url]: Tax number\n"
        f"[url={base}/contact/details/{ids['contact_missing']}/]Ivan Petrov[/url]: Phone"
    )
    assert notes[ids["boris"]].startswith("Incomplete cards: 1 (deals: 1, companies: 0, contacts: 0)")

    book = load_workbook(report.output, read_only=True)
    cards = [list(r) for r in book["Cards"].iter_rows(values_only=True)]
    assert cards[0] == ["Responsible", "Responsible ID", "Type", "ID", "Title", "Missing", "Link"]
    assert cards[1] == ["Anna S", ids["anna"], "deal", ids["deal_missing"], "No contract", "Contract", link]
    assert len(cards) == 5
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    assert summary[1:] == [["Anna S", ids["anna"], 1, 1, 1, 3], ["Boris S", ids["boris"], 1, 0, 0, 1]]
    book.close()


def test_scheduled_entry_lists_limits_and_russian(portal, tmp_path):
    seed(portal)
    settings = {
        **SETTINGS,
        "language": "ru",
        "report": {"max_items": 1, "output": str(tmp_path / "report-{date}.xlsx"), "contact": []},
    }
    portal.now = lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    summary = portal.run(lambda ctx: run_completeness_report(None, ctx, settings))
    assert summary == {
        "cards": 3,
        "users": 2,
        "notified": 2,
        "output": str(tmp_path / "report-2026-12-01.xlsx"),
    }
    anna = next(n for n in portal.emulator.admin("notifications") if "компании: 1" in n["MESSAGE"])
    assert anna["MESSAGE"].startswith("Незаполненные карточки: 2 (сделки: 1, компании: 1, контакты: 0).")
    assert anna["MESSAGE"].endswith("… и ещё 1")
    book = load_workbook(summary["output"], read_only=True)
    assert book.sheetnames == ["Карточки", "Сводка"]
    book.close()


def test_no_notifications_when_switched_off_and_many_records_streamed(portal):
    seed(portal)
    portal.rest("batch", {"cmd": {f"d{i}": f"crm.deal.add?fields[TITLE]=Bulk {i}" for i in range(50)}})
    portal.rest("batch", {"cmd": {f"d{i}": f"crm.deal.add?fields[TITLE]=More {i}" for i in range(50)}})
    settings = RequiredFieldsSettings.model_validate({**SETTINGS, "report": {"notify": False}})
    mark = portal.mark()
    report = portal.run(lambda ctx: completeness_report(ctx, settings))
    assert portal.requests_since(mark) <= 7
    assert report.notified == [] and portal.emulator.admin("notifications") == []
    assert sum(1 for r in report.rows if r.entity == "deal") == 102


def test_the_report_as_a_registered_rule_for_cron_jobs(portal, tmp_path):
    seed(portal)
    spec = get_event_rule("required_fields_report")
    assert spec.events == () and spec.settings is RequiredFieldsSettings
    settings = RequiredFieldsSettings.model_validate(
        {**SETTINGS, "report": {"output": str(tmp_path / "r.xlsx")}}
    )
    portal.run(lambda ctx: spec.handler(PortalEvent("CRON", {}), ctx, settings))
    assert (tmp_path / "r.xlsx").exists()
    assert len(portal.emulator.admin("notifications")) == 2


def test_a_failed_workbook_write_notifies_no_one(portal, tmp_path):
    """The workbook is written before anyone is told, so a retry after a failed write tells no
    one twice; no half-written file is left behind."""
    seed(portal)
    target = tmp_path / "report.xlsx"
    target.mkdir()  # the write cannot replace a folder
    settings = {**SETTINGS, "report": {"output": str(target)}}
    with pytest.raises(IsADirectoryError):
        portal.run(lambda ctx: run_completeness_report(CRON, ctx, settings))
    assert portal.emulator.admin("notifications") == []
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]
    target.rmdir()
    summary = portal.run(lambda ctx: run_completeness_report(CRON, ctx, settings))
    assert summary["notified"] == 2 and len(portal.emulator.admin("notifications")) == 2
    assert load_workbook(target, read_only=True).sheetnames == ["Cards", "Summary"]


def test_a_retry_after_a_failed_notification_tells_only_the_others(portal):
    """A notification failing with a 5xx makes the run fail (for the runner to retry); the retry
    of the same run notifies only the users the first attempt missed."""
    ids = seed(portal)
    portal.emulator.admin("faults", {"method": "im.notify.system.add", "error": "500", "times": 1})
    with pytest.raises(TransientNotifyError, match="1 notifications failed") as failed:
        portal.run(lambda ctx: run_completeness_report(CRON, ctx, SETTINGS))
    assert isinstance(failed.value, Retriable)
    first = [n["USER_ID"] for n in portal.emulator.admin("notifications")]
    assert len(first) == 1
    summary = portal.run(lambda ctx: run_completeness_report(CRON, ctx, SETTINGS))
    assert summary["notified"] == 2
    told = sorted(n["USER_ID"] for n in portal.emulator.admin("notifications"))
    assert told == sorted([ids["anna"], ids["boris"]])  # each once
    assert portal.memory.values == {}  # forgotten once the run succeeded
    later = PortalEvent("B24KIT_CRON", {"job": "report", "at": "2026-12-02T08:00:00+00:00"})
    portal.run(lambda ctx: run_completeness_report(later, ctx, SETTINGS))
    assert len(portal.emulator.admin("notifications")) == 4  # the next run tells everyone again


def test_a_refused_notification_is_logged_and_the_report_goes_on(portal, caplog):
    seed(portal)
    portal.emulator.admin("faults", {"method": "im.notify.system.add", "error": "ACCESS_DENIED", "times": 1})
    summary = portal.run(lambda ctx: run_completeness_report(CRON, ctx, SETTINGS))
    assert (summary["users"], summary["notified"]) == (2, 1)
    assert "completeness report: 1 notifications failed" in caplog.text


def test_output_is_relative_to_the_job_file_and_dated_in_the_cron_time_zone(portal, tmp_path, monkeypatch):
    seed(portal)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    settings = {**SETTINGS, "report": {"output": "reports/cards-{date}.xlsx", "notify": False}}
    portal.now = lambda: datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # already 2 December in Tokyo
    portal.job = JobInfo("report", tmp_path / "jobs", "Asia/Tokyo")
    summary = portal.run(lambda ctx: run_completeness_report(CRON, ctx, settings))
    assert summary["output"] == str(tmp_path / "jobs" / "reports" / "cards-2026-12-02.xlsx")
    assert Path(summary["output"]).is_file()

    absolute = {**SETTINGS, "report": {"output": str(tmp_path / "abs-{date}.xlsx"), "notify": False}}
    summary = portal.run(lambda ctx: run_completeness_report(CRON, ctx, absolute))
    assert summary["output"] == str(tmp_path / "abs-2026-12-02.xlsx")

    portal.job = JobInfo("report", tmp_path / "jobs")  # no cron trigger: the UTC date
    summary = portal.run(lambda ctx: run_completeness_report(CRON, ctx, settings))
    assert summary["output"] == str(tmp_path / "jobs" / "reports" / "cards-2026-12-01.xlsx")

    portal.job = None  # outside a job: the working directory
    summary = portal.run(lambda ctx: run_completeness_report(CRON, ctx, settings))
    assert summary["output"] == "reports/cards-2026-12-01.xlsx"
    assert (tmp_path / "cwd" / "reports" / "cards-2026-12-01.xlsx").is_file()


def test_a_job_tells_its_handler_its_folder_and_cron_time_zone(tmp_path):
    load_plugins()
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "report.yaml").write_text(
        """
version: 1
jobs:
  - name: report
    trigger: {cron: "0 8 * * 1-5", timezone: Europe/Moscow}
    action: {rule: required_fields_report}
  - name: rule
    action: {rule: required_fields}
""",
        encoding="utf-8",
    )
    jobs = load_jobs([folder / "report.yaml"], env={}, portals=None)
    report, rule = jobs.get("report"), jobs.get("rule")
    assert report is not None and rule is not None
    assert report.info() == JobInfo("report", folder.resolve(), "Europe/Moscow")
    assert rule.info() == JobInfo("rule", folder.resolve(), None)

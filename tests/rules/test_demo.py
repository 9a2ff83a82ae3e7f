"""``b24kit demo``: the emulator and the runner in one process, S1 and S2 at work, in under 30 s."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from b24kit.cli import app
from b24kit.cli.demo_run import run_demo


def test_demo_command_prints_what_happened_quickly():
    started = time.monotonic()
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "200"})
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 30
    for title in (
        "Deals: where each one went",
        "Payment-schedule robot runs",
        "Smart invoices",
        "Tasks",
        "Notifications",
    ):
        assert title in result.output
    assert "invoices created 3, tasks created 6" in result.output
    assert "the payments add up to 110000.00, the deal amount is 120000.00" in result.output
    assert "(moved back from In progress)" in result.output
    assert "Done in" in result.output


def test_demo_state_in_a_workdir_and_in_russian(tmp_path):
    outcome = run_demo("ru", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "b24kit.yaml",
        "jobs.yaml",
        "runner.db",
        "tokens.json",
    ]
    first, bad, reverted, kept = outcome.deals
    assert (first["STAGE_ID"], bad["STAGE_ID"], reverted["STAGE_ID"], kept["STAGE_ID"]) == (
        "PREPAYMENT_INVOICE",
        "PREPAYMENT_INVOICE",
        "PREPARATION",
        "EXECUTING",
    )
    assert [(i["parentId2"], i["opportunity"]) for i in outcome.invoices] == [
        (int(first["ID"]), 150000),
        (int(first["ID"]), 300000),
    ]
    assert outcome.invoices[0]["title"] == f"Счёт 1 из 2 по сделке «{first['TITLE']}»"
    assert len(outcome.tasks) == 4
    assert {t["ufCrmTask"][0] for t in outcome.tasks} == {f"D_{first['ID']}"}
    (note,) = outcome.notifications
    assert note["USER_ID"] == int(reverted["ASSIGNED_BY_ID"])
    assert (
        note["MESSAGE"].startswith("Сделка [url=")
        and "возвращена на стадию «Document preparation»" in note["MESSAGE"]
    )
    answers = [run.get("return_values", {}).get("summary") or " ".join(run["log"]) for run in outcome.runs]
    assert answers[0] == "invoices created 3, tasks created 6"
    assert "the payments add up to 110000.00" in answers[1]
    assert answers[2].startswith("invoices updated 2, invoices deleted 1, tasks updated 2, tasks deleted 2")
    again = run_demo("en", tmp_path)  # a kept workdir can be used again
    assert len(again.invoices) == 2 and len(again.notifications) == 1

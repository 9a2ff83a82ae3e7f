"""``b24kit rules report``: the completeness report once, in-process, against the emulator."""

from __future__ import annotations

import textwrap
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from b24kit.cli import app

from .test_completeness import seed

JOBS = """
version: 1
jobs:
  - name: required-fields
    action:
      rule: required_fields
      settings: &required
        language: en
        requirements:
          - {pipeline: 0, stages: [EXECUTING], deal: [OPPORTUNITY, UF_CRM_CONTRACT], company: [UF_CRM_INN]}
          - {pipeline: 0, stages: [WON], contact: [PHONE]}
        report: {output: "reports/cards-{date}.xlsx"}
  - name: report
    trigger: {cron: "0 8 * * 1-5", timezone: Europe/Moscow}
    action: {rule: required_fields_report, settings: *required}
"""


def write_config(folder: Path, webhook_url: str, jobs: str = JOBS) -> Path:
    (folder / "jobs").mkdir()
    (folder / "jobs" / "rules.yaml").write_text(textwrap.dedent(jobs), encoding="utf-8")
    config = folder / "b24kit.yaml"
    config.write_text(
        f"default_portal: emu\nportals:\n  emu: {{url: '{webhook_url}', limits: 'off'}}\n"
        "runner:\n  jobs: [jobs/*.yaml]\n",
        encoding="utf-8",
    )
    return config


def invoke(*args: str):
    return CliRunner().invoke(app, ["rules", "report", *args], env={"COLUMNS": "200"})


def test_the_report_now_with_a_workbook_and_notifications(portal, tmp_path):
    ids = seed(portal)
    config = write_config(tmp_path, portal.emulator.webhook_url)
    out = tmp_path / "now.xlsx"
    result = invoke("--config", str(config), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "Incomplete cards on emu (job report): 4" in result.output
    assert f"workbook: {out}" in result.output
    book = load_workbook(out, read_only=True)
    cards = [list(r) for r in book["Cards"].iter_rows(values_only=True)]
    by_user = {(row[1], row[2], row[3]) for row in cards[1:]}
    assert by_user == {
        (ids["anna"], "deal", ids["deal_missing"]),
        (ids["anna"], "company", ids["company_missing"]),
        (ids["anna"], "contact", ids["contact_missing"]),
        (ids["boris"], "deal", ids["deal_empty"]),
    }
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    assert summary[1:] == [["Anna S", ids["anna"], 1, 1, 1, 3], ["Boris S", ids["boris"], 1, 0, 0, 1]]
    book.close()
    notes = {n["USER_ID"]: n["MESSAGE"] for n in portal.emulator.admin("notifications")}
    assert sorted(notes) == sorted([ids["anna"], ids["boris"]])
    assert notes[ids["anna"]].startswith("Incomplete cards: 3 (deals: 1, companies: 1, contacts: 1).")


def test_no_notify_and_the_jobs_own_output(portal, tmp_path, monkeypatch):
    seed(portal)
    config = write_config(tmp_path, portal.emulator.webhook_url)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    result = invoke("--config", str(config), "--job", "required-fields", "--no-notify")
    assert result.exit_code == 0, result.output
    assert portal.emulator.admin("notifications") == []
    (made,) = (tmp_path / "jobs" / "reports").glob("cards-*.xlsx")  # the job file's folder
    assert f"workbook: {made}" in result.output
    assert "(job required-fields): 4" in result.output and "│ no " in result.output


def test_a_webhook_url_as_the_portal_and_wrong_jobs(portal, tmp_path):
    seed(portal)
    config = write_config(tmp_path, "http://127.0.0.1:9/rest/1/nothing/")  # not this one
    url = portal.emulator.webhook_url
    result = invoke("--config", str(config), "--portal", url, "--no-notify", "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x.xlsx").is_file()

    unknown = invoke("--config", str(config), "--job", "nope")
    assert unknown.exit_code == 2 and "no job named 'nope'" in unknown.output
    assert "required-fields, report" in unknown.output
    bare = tmp_path / "bare"
    bare.mkdir()
    empty = write_config(bare, url, jobs="version: 1\njobs: []\n")
    none = invoke("--config", str(empty))
    assert none.exit_code == 2 and "no job runs required_fields_report" in none.output

"""The completeness report as the runner runs it: ``report.output`` relative to the job file."""

from __future__ import annotations

import pytest

from tests.jobs.helpers import b24kit, in_process, install, wait_for, write_config

JOBS = """
version: 1
jobs:
  - name: report
    trigger: {cron: "0 8 * * 1-5", timezone: Europe/Moscow}
    action:
      rule: required_fields_report
      settings:
        language: en
        requirements: [{pipeline: 0, stages: [EXECUTING], deal: [OPPORTUNITY]}]
        report: {output: "reports/cards-{date}.xlsx"}
"""


def test_a_queued_report_writes_under_the_job_files_folder(b24_emulator, tmp_path, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the runner's working directory is not the jobs'
    b24_emulator.rest("crm.deal.add", {"fields": {"TITLE": "No amount"}})
    config = write_config(tmp_path, b24_emulator.base_url, JOBS)
    with in_process(config) as served:
        install(b24_emulator, served.url)
        ran = b24kit("jobs", "run", "report", "--config", str(config))
        assert ran.returncode == 0, ran.stderr
        made = wait_for(lambda: list((tmp_path / "reports").glob("cards-*.xlsx")))
        served.wait_idle()
    assert len(made) == 1 and not (tmp_path / "elsewhere" / "reports").exists()
    (note,) = b24_emulator.admin("notifications")
    assert note["MESSAGE"].startswith("Incomplete cards: 1 (deals: 1")


@pytest.fixture(autouse=True)
def _no_leftovers(tmp_path):
    yield
    assert not list(tmp_path.rglob(".*.tmp"))  # the workbook is moved into place whole

"""End to end with real processes: ``b24kit emulator serve`` as the portal, ``b24kit serve`` as
the runner; robots installed and placed with the CLI, events bound, a deal moved."""

from __future__ import annotations

from pathlib import Path

import pytest

from b24kit.emulator.wire import http_build_query

from .helpers import as_process, b24kit, emulator_process, install, post_form, write_config

JOBS = """
version: 1
jobs:
  - name: mark
    action: {rule: test_mark_seen}
  - name: echo
    trigger: {robot: test_echo}
"""


@pytest.fixture
def emulator():
    with emulator_process() as running:
        yield running


def test_robot_answered_and_the_same_event_twice_has_one_effect(emulator, tmp_path: Path):
    config = write_config(tmp_path, emulator.base_url, JOBS)
    with as_process(config) as runner:
        install(emulator, runner.url)
        cli = ["--config", str(config), "--public-url", runner.url]
        installed = b24kit("robots", "install", *cli)
        assert installed.returncode == 0, installed.stderr
        assert "robot test_echo added" in installed.stdout
        assert "robot test_echo unchanged" in b24kit("robots", "install", *cli).stdout
        bound = b24kit("events", "bind", *cli)
        assert bound.returncode == 0 and "ONCRMDEALUPDATE (online) bound" in bound.stdout
        assert "bound" not in b24kit("events", "bind", *cli).stdout.replace("present", "")
        emulator.admin(
            "automation",
            {
                "entity_type_id": 2,
                "category_id": 0,
                "stage_id": "PREPARATION",
                "robot_code": "test_echo",
                "properties": {"text": "ready"},
            },
        )
        deal = emulator.rest("crm.deal.add", {"fields": {"TITLE": "E2E", "STAGE_ID": "NEW"}})["result"]
        emulator.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "PREPARATION"}})
        emulator.flush()
        runner.wait_idle(settle=0.5)
        emulator.flush()
        runner.wait_idle(settle=0.5)
        (run,) = emulator.admin("workflows")
        assert (run["status"], run["return_values"]) == ("completed", {"echo": "READY E2E"})
        assert emulator.rest("crm.deal.get", {"id": deal})["result"]["COMMENTS"] == "seen by b24kit"
        writes = [c for c in emulator.admin("calls?method=crm.deal.update") if "COMMENTS" in str(c["params"])]
        assert len(writes) == 1
        # the portal delivers the same event again: accepted, run again, and nothing changes
        update = next(
            d
            for d in emulator.admin("deliveries")
            if d["kind"] == "event" and d["body"]["event"] == "ONCRMDEALUPDATE"
        )
        again = post_form(update["url"], http_build_query(update["body"]).encode())
        assert again.status_code == 200
        runner.wait_idle(settle=0.5)
        writes = [c for c in emulator.admin("calls?method=crm.deal.update") if "COMMENTS" in str(c["params"])]
        assert len(writes) == 1
        assert len(emulator.admin("workflows")) == 1
        assert runner.metric("b24kit_runner_failed_total") == 0

"""The runner at work (in-process, on a real socket) with the emulator as an installed app:
events through jobs, merging, converging echoes, robots answered, faults, retries, timers."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

import tests.jobs.handlers as handlers
from b24kit.jobs.admin import bind, install_robots
from b24kit.testing import RunningEmulator

from .helpers import Served, b24kit, deal_calls, in_process, install, wait_for, write_config


@pytest.fixture(autouse=True)
def _fresh_handlers():
    handlers.fired.clear()
    handlers.FAIL["flaky"] = True
    yield


def start(emulator: RunningEmulator, tmp_path: Path, jobs: str, runner: str = ""):
    return in_process(write_config(tmp_path, emulator.base_url, jobs, runner))


def bound(served: Served, emulator: RunningEmulator, mode: str | None = None) -> dict:
    app = install(emulator, served.url)
    assert served.runner is not None
    asyncio.run(bind(served.settings, served.runner.services.jobs, "emu", base_url=served.url, mode=mode))
    return app


def add_deal(emulator: RunningEmulator, **fields) -> int:
    return int(emulator.rest("crm.deal.add", {"fields": {"TITLE": "t", **fields}})["result"])


def update(emulator: RunningEmulator, deal: int, **fields) -> None:
    assert emulator.rest("crm.deal.update", {"id": deal, "fields": fields})["result"] is True


def settle(served: Served, emulator: RunningEmulator) -> dict[str, int]:
    """Deliveries sent, then the runner idle (twice: a task may write and echo once more)."""
    for _ in range(2):
        emulator.flush()
        served.wait_idle(settle=0.3)
    return served.healthz()["tasks"]


def moved(served: Served, emulator: RunningEmulator, stage: str) -> int:
    """With the jobs bound, a new deal (in NEW) moved to ``stage`` and everything settled; its id."""
    bound(served, emulator)
    deal = add_deal(emulator, STAGE_ID="NEW")
    update(emulator, deal, STAGE_ID=stage)
    settle(served, emulator)
    return deal


def probability(emulator: RunningEmulator, deal: int) -> object:
    """The deal's PROBABILITY as the portal answers it (one ``crm.deal.get``)."""
    return emulator.rest("crm.deal.get", {"id": deal})["result"]["PROBABILITY"]


PROBABILITY = """
version: 1
jobs:
  - name: probability
    action: {rule: test_probability}
"""


def test_a_rule_writing_the_record_it_watches_converges(b24_emulator, tmp_path):
    with start(b24_emulator, tmp_path, PROBABILITY) as served:
        deal = moved(served, b24_emulator, "PREPARATION")
        assert probability(b24_emulator, deal) == "30"
        writes = deal_calls(b24_emulator, "crm.deal.update", deal)
        assert len(writes) == 2  # ours (the stage) and the rule's; its own echo wrote nothing
        assert served.metric("b24kit_runner_processed_total", kind="event") == 2  # the change, its echo
        assert served.metric("b24kit_runner_failed_total") == 0


def test_a_storm_of_updates_reads_the_deal_at_most_twice(b24_emulator, tmp_path):
    with start(b24_emulator, tmp_path, PROBABILITY, "debounce_seconds: 1.0") as served:
        bound(served, b24_emulator)
        deal = add_deal(b24_emulator, STAGE_ID="EXECUTING", PROBABILITY=60)
        settle(served, b24_emulator)
        reads_before = len(deal_calls(b24_emulator, "crm.deal.get", deal))
        for i in range(100):
            update(b24_emulator, deal, COMMENTS=f"edit {i}")
        b24_emulator.flush()
        served.wait_idle(settle=1.3)
        assert len(deal_calls(b24_emulator, "crm.deal.get", deal)) - reads_before <= 2
        assert served.metric("b24kit_runner_merged_total", kind="event") >= 98


STAGES = """
version: 1
jobs:
  - name: stages
    trigger:
      events: [ONCRMDEALADD, ONCRMDEALUPDATE]
      when: [{field: STAGE_ID, changed: true}, {field: CATEGORY_ID, equals: 0}]
    action: {hook: "tests.jobs.handlers:remember"}
"""


def test_conditions_read_the_record_once_and_changed_compares_with_what_was_seen(b24_emulator, tmp_path):
    with start(b24_emulator, tmp_path, STAGES) as served:
        bound(served, b24_emulator)
        deal = add_deal(b24_emulator, STAGE_ID="NEW")
        settle(served, b24_emulator)
        update(b24_emulator, deal, COMMENTS="no stage change")
        settle(served, b24_emulator)
        update(b24_emulator, deal, STAGE_ID="PREPARATION")
        settle(served, b24_emulator)
        assert [name for name, _ in handlers.fired] == ["ONCRMDEALADD", "ONCRMDEALUPDATE"]
        assert len(deal_calls(b24_emulator, "crm.deal.get", deal)) == 3  # one per processed event


ROBOTS = """
version: 1
jobs:
  - name: echo
    trigger: {robot: test_echo}
  - name: tasks
    trigger: {robot: test_task}
"""


def place(emulator: RunningEmulator, code: str, stage: str, **properties) -> None:
    emulator.admin(
        "automation",
        {
            "entity_type_id": 2,
            "category_id": 0,
            "stage_id": stage,
            "robot_code": code,
            "properties": properties,
        },
    )


def test_robots_are_installed_placed_and_always_answered(b24_emulator, tmp_path):
    with start(b24_emulator, tmp_path, ROBOTS) as served:
        install(b24_emulator, served.url)
        assert served.runner is not None
        done = asyncio.run(
            install_robots(served.settings, served.runner.services.jobs, "emu", base_url=served.url)
        )
        assert [(i.code, i.action) for i in done] == [("test_echo", "added"), ("test_task", "added")]
        place(b24_emulator, "test_echo", "PREPARATION", text="hello {=Document:TITLE}")
        place(b24_emulator, "test_echo", "EXECUTING", text="fail")
        good = add_deal(b24_emulator, TITLE="Alpha", STAGE_ID="PREPARATION")
        bad = add_deal(b24_emulator, TITLE="Beta", STAGE_ID="EXECUTING")
        settle(served, b24_emulator)
        runs = {r["document_id"][2]: r for r in b24_emulator.admin("workflows")}
        assert runs[f"DEAL_{good}"]["status"] == "completed"
        assert runs[f"DEAL_{good}"]["return_values"] == {"echo": "HELLO ALPHA Alpha"}
        assert runs[f"DEAL_{bad}"]["status"] == "completed"
        assert runs[f"DEAL_{bad}"]["log"] == ["b24kit: asked to fail"]
        # a handler's refusal is an answer, not a failure of the runner: nothing to retry
        assert served.metric("b24kit_runner_robot_answers_total", outcome="error") == 1
        assert served.metric("b24kit_runner_robot_answers_total", outcome="sent") == 1
        assert served.healthz()["tasks"] == {"done": 2}


def test_a_robot_call_delivered_twice_runs_once(b24_emulator, tmp_path):
    with start(b24_emulator, tmp_path, ROBOTS) as served:
        install(b24_emulator, served.url)
        assert served.runner is not None
        asyncio.run(install_robots(served.settings, served.runner.services.jobs, "emu", base_url=served.url))
        place(b24_emulator, "test_task", "PREPARATION", title="Call the client")
        deal = add_deal(b24_emulator, STAGE_ID="PREPARATION")
        settle(served, b24_emulator)
        (delivery,) = [d for d in b24_emulator.admin("deliveries") if d["kind"] == "robot"]
        from b24kit.emulator.wire import http_build_query

        from .helpers import post_form

        again = post_form(delivery["url"], http_build_query(delivery["body"]).encode())
        assert again.json() == {"result": "duplicate"}
        settle(served, b24_emulator)
        tasks = b24_emulator.rest("tasks.task.list", {"filter": {"TITLE": f"Call the client #{deal}"}})
        assert len(tasks["result"]["tasks"]) == 1
        assert b24_emulator.admin("workflows")[0]["return_values"] == {
            "task_id": int(tasks["result"]["tasks"][0]["id"])
        }


FLAKY = """
version: 1
jobs:
  - name: flaky
    trigger: {event: ONCRMDEALUPDATE}
    action: {hook: "tests.jobs.handlers:flaky"}
    retry: {attempts: 2, backoff: 0.1}
"""


def test_failures_retry_then_wait_in_the_dead_letters_until_retried(b24_emulator, tmp_path):
    with start(b24_emulator, tmp_path, FLAKY) as served:
        bound(served, b24_emulator)
        deal = add_deal(b24_emulator)
        update(b24_emulator, deal, COMMENTS="x")
        settle(served, b24_emulator)
        config = str(served.settings.source)
        listing = b24kit("jobs", "failed", "--json", "--config", config)
        assert listing.returncode == 1
        (dead,) = [json.loads(line) for line in listing.stdout.splitlines()]
        assert (dead["kind"], dead["name"], dead["record"]) == ("event", "ONCRMDEALUPDATE", f"emu:2:{deal}")
        assert (dead["attempts"], dead["error"]) == (2, "flaky hook says no")
        task_id = dead["id"]
        shown = b24kit("jobs", "show", str(task_id), "--config", config)
        assert shown.returncode == 0 and '"attempts": 2' in shown.stdout
        assert shown.stdout.count("flaky hook says no") == 2
        assert served.metric("b24kit_runner_retried_total", kind="event") == 1
        assert served.metric("b24kit_runner_dead_total", kind="event") == 1
        handlers.FAIL["flaky"] = False
        retried = b24kit("jobs", "retry", "--all", "--config", config)
        assert retried.returncode == 0 and "1 tasks queued again" in retried.stdout
        wait_for(lambda: handlers.fired)
        assert handlers.fired == [("ONCRMDEALUPDATE", {"FIELDS": {"ID": str(deal)}})]
        assert b24kit("jobs", "failed", "--config", config).stdout.strip() == "no failed tasks"


@pytest.mark.parametrize(
    "fault",
    [
        {"method": "crm.deal.get", "error": "QUERY_LIMIT_EXCEEDED", "times": 3},
        {"method": "crm.deal.get", "error": "OPERATION_TIME_LIMIT", "times": 1},
        {"method": "crm.deal.update", "error": "500", "times": 2},
        {"method": "crm.deal.get", "error": "500", "times": 3},
    ],
)
def test_portal_faults_delay_work_but_lose_none(b24_emulator, tmp_path, fault):
    with start(b24_emulator, tmp_path, PROBABILITY, "debounce_seconds: 1.5") as served:
        bound(served, b24_emulator)
        deals = [add_deal(b24_emulator, STAGE_ID="NEW") for _ in range(3)]
        for deal in deals:
            update(b24_emulator, deal, STAGE_ID="PREPARATION")
        b24_emulator.flush()  # the events are queued (debounced) before the portal starts failing
        if fault["error"] == "OPERATION_TIME_LIMIT":  # blocked for two seconds of portal time
            reset = int(b24_emulator.admin("clock")["time"]) + 2
            fault = {**fault, "status": 429, "description": f"Method is blocked; reset at {reset}"}
        b24_emulator.admin("faults", fault)
        settle(served, b24_emulator)
        served.wait_idle(timeout=60, settle=1.5)
        for deal in deals:
            assert probability(b24_emulator, deal) == "30"
        assert served.healthz()["tasks"].get("dead", 0) == 0
        assert b24_emulator.admin("faults") == []  # every injected failure was met


TIMERS = """
version: 1
jobs:
  - name: remind
    trigger: {event: ONCRMDEALADD}
    action: {hook: "tests.jobs.handlers:set_timer", settings: {seconds: 4}}
  - name: forget
    trigger: {event: ONCRMDEALDELETE}
    action: {hook: "tests.jobs.handlers:set_timer", settings: {cancel: true}}
"""


def test_durable_timers_fire_after_a_restart_and_can_be_cancelled(b24_emulator, tmp_path):
    config = write_config(tmp_path, b24_emulator.base_url, TIMERS)
    with in_process(config) as served:
        bound(served, b24_emulator)
        kept = add_deal(b24_emulator)
        dropped = add_deal(b24_emulator)
        settle(served, b24_emulator)
        assert b24_emulator.rest("crm.deal.delete", {"id": dropped})["result"] is True
        settle(served, b24_emulator)
    assert handlers.fired == []  # the runner stopped before the timers were due
    from b24kit.jobs.store import JobStore

    with JobStore(f"sqlite:///{tmp_path}/runner.db") as store:
        (timer,) = store.timers()  # the cancelled one is gone
    assert timer["key"] == f"deal:{kept}:reminder"
    time.sleep(max(0.0, timer["due"] - time.time()))
    with in_process(config) as served:
        wait_for(lambda: handlers.fired)
        served.wait_idle(settle=0.5)
    assert handlers.fired == [("B24KIT_TIMER", {"key": f"deal:{kept}:reminder", "deal": kept})]


CRON = """
version: 1
jobs:
  - name: every-minute
    trigger: {cron: "* * * * *", catch_up: once}
    action: {hook: "tests.jobs.handlers:remember"}
  - name: hourly-skip
    trigger: {cron: "@hourly", catch_up: skip}
    action: {hook: "tests.jobs.handlers:remember"}
"""


def test_cron_catches_up_once_after_downtime(b24_emulator, tmp_path):
    config = write_config(tmp_path, b24_emulator.base_url, CRON)
    from b24kit.jobs.store import JobStore

    with JobStore(f"sqlite:///{tmp_path}/runner.db") as store:
        store.set("cron:last:emu:every-minute", "2020-01-01T00:00:00+00:00")
        store.set("cron:last:emu:hourly-skip", "2020-01-01T00:00:00+00:00")
    with in_process(config) as served:
        wait_for(lambda: handlers.fired)
        served.wait_idle(settle=0.3)
    ((name, data),) = [f for f in handlers.fired if f[1].get("reason") == "catch-up"]
    assert (
        name == "B24KIT_CRON"
        and data["job"] == "every-minute"
        and data["detail"].startswith("2020-01-01T00:01")
    )
    assert not any(f[1].get("job") == "hourly-skip" for f in handlers.fired)
    with JobStore(f"sqlite:///{tmp_path}/runner.db") as store:
        assert store.get("cron:last:emu:every-minute") > "2026"


def test_jobs_run_queues_a_manual_run(b24_emulator, tmp_path):
    with start(b24_emulator, tmp_path, CRON) as served:
        done = b24kit("jobs", "run", "hourly-skip", "--config", str(served.settings.source))
        assert done.returncode == 0, done.stderr
        wait_for(lambda: handlers.fired)
        assert handlers.fired[0][1]["reason"] == "manual"
        unknown = b24kit("jobs", "run", "nope", "--config", str(served.settings.source))
        assert unknown.returncode == 2 and "no job named 'nope'" in unknown.stderr


GUARDED = """
version: 1
jobs:
  - name: probability-on-stage-change
    trigger:
      event: ONCRMDEALUPDATE
      when: [{field: STAGE_ID, changed: true}]
    action: {rule: test_probability}
"""


def test_the_rule_reads_what_the_runner_read_for_its_conditions_from_memory(b24_emulator, tmp_path):
    with start(b24_emulator, tmp_path, GUARDED) as served:
        deal = moved(served, b24_emulator, "EXECUTING")
        assert probability(b24_emulator, deal) == "60"
        # two events (the move, then the rule's own write): one read each, though the runner
        # and the rule both asked for the deal
        assert served.metric("b24kit_runner_processed_total", kind="event") == 2
        assert len(deal_calls(b24_emulator, "crm.deal.get", deal)) - 1 == 2  # minus the test's own get

"""Job actions through the runner: a sync profile, a webhook's hook; and the runner on PostgreSQL."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

import tests.jobs.handlers as handlers
from b24kit.sync.connectors.memory import memory_store, reset_memory_stores

from .helpers import b24kit, in_process, wait_for, write_config
from .test_runner import PROBABILITY, add_deal, bound, settle, update

PROFILE = """
version: 1
name: jobs-memory
source: {connector: memory, entity: rows, options: {store: jobs-src}}
target: {connector: memory, entity: contact, options: {store: jobs-dst}}
match:
  keys: [{source: email, target: EMAIL, normalise: email}]
fields:
  NAME: {from: name, required: true}
  EMAIL: email
"""
SYNC_JOBS = """
version: 1
jobs:
  - name: contacts
    trigger: {cron: "0 3 * * *"}
    action: {sync: profile.yaml}
  - name: paid
    trigger: {webhook: shop, events: [order.paid]}
    action: {hook: "tests.jobs.handlers:remember"}
"""


@pytest.fixture(autouse=True)
def _fresh():
    reset_memory_stores()
    handlers.fired.clear()
    yield
    reset_memory_stores()


def test_a_sync_job_runs_its_profile_and_a_second_run_writes_nothing(b24_emulator, tmp_path: Path):
    (tmp_path / "profile.yaml").write_text(PROFILE)
    source = memory_store("jobs-src")
    source.put("rows", {"name": "Ann", "email": "ann@example.com"})
    source.put("rows", {"name": "Bob", "email": "bob@example.com"})
    config = write_config(
        tmp_path, b24_emulator.base_url, SYNC_JOBS, f"sync_state: sqlite:///{tmp_path}/sync.db"
    )
    with in_process(config) as served:
        for _ in range(2):
            assert b24kit("jobs", "run", "contacts", "--config", str(config)).returncode == 0
            wait_for(lambda: served.healthz()["tasks"].get("done", 0) >= 1)
            served.wait_idle(settle=0.3)
        target = memory_store("jobs-dst")
        assert sorted(r["NAME"] for r in target.rows("contact").values()) == ["Ann", "Bob"]
        assert len(target.writes) == 2  # the second run changed nothing


def test_a_webhook_runs_its_job_with_the_body_as_the_event(b24_emulator, tmp_path: Path):
    (tmp_path / "profile.yaml").write_text(PROFILE)
    config = write_config(
        tmp_path, b24_emulator.base_url, SYNC_JOBS, "webhooks: {shop: {kind: generic, secret: s3}}"
    )
    with in_process(config) as served:
        answer = httpx.post(
            f"{served.url}/webhooks/generic/shop",
            json={"event": "order.paid", "order": 7},
            headers={"X-B24kit-Token": "s3"},
            timeout=10,
        )
        assert answer.json() == {"result": "accepted"}
        wait_for(lambda: handlers.fired)
    assert handlers.fired == [("order.paid", {"event": "order.paid", "order": 7})]


def test_runs_of_one_profile_never_overlap(b24_emulator, tmp_path: Path):
    """A scheduled run and a webhook's run of one profile, both finding a new record: without
    the profile lock both would create it (the second run's lookup ran before the first wrote)."""
    (tmp_path / "profile.yaml").write_text(PROFILE)
    memory_store("jobs-src").put("rows", {"name": "Ann", "email": "ann@example.com"})
    target = memory_store("jobs-dst")
    held, overlapped = threading.Event(), threading.Event()

    def hold_the_first_write(entity: str, change: object) -> None:
        if held.is_set():
            overlapped.set()
        else:
            held.set()
            overlapped.wait(2.0)  # a run overlapping this one writes in the meantime
        return None

    target.reject = hold_the_first_write
    jobs = SYNC_JOBS + (
        "  - name: contacts-on-webhook\n    trigger: {webhook: shop}\n    action: {sync: profile.yaml}\n"
    )
    runner = f"sync_state: sqlite:///{tmp_path}/sync.db\nwebhooks: {{shop: {{kind: generic, secret: s3}}}}"
    config = write_config(tmp_path, b24_emulator.base_url, jobs, runner)
    with in_process(config) as served:
        assert b24kit("jobs", "run", "contacts", "--config", str(config)).returncode == 0
        wait_for(held.is_set)  # the scheduled run is writing Ann
        answer = httpx.post(
            f"{served.url}/webhooks/generic/shop",
            json={"event": "contacts.changed"},
            headers={"X-B24kit-Token": "s3"},
            timeout=10,
        )
        assert answer.json() == {"result": "accepted"}
        wait_for(lambda: served.healthz()["tasks"].get("done", 0) >= 2, timeout=30)
        assert served.wait_idle() == {"done": 2}
    assert [r["NAME"] for r in target.rows("contact").values()] == ["Ann"]
    assert len(target.writes) == 1  # the webhook's run found Ann and wrote nothing
    assert not overlapped.is_set()


@pytest.fixture
def postgres_state(postgres_url: str) -> Iterator[str]:
    schema = f"runner_{secrets.token_hex(4)}"
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_the_runner_on_postgresql(b24_emulator, tmp_path: Path, postgres_state: str):
    config = write_config(tmp_path, b24_emulator.base_url, PROBABILITY, f"state: {postgres_state}")
    config.write_text(config.read_text().replace("  state: sqlite:///runner.db\n", ""))
    with in_process(config) as served:
        bound(served, b24_emulator)
        deal = add_deal(b24_emulator, STAGE_ID="NEW")
        update(b24_emulator, deal, STAGE_ID="PREPARATION")
        settle(served, b24_emulator)
        assert b24_emulator.rest("crm.deal.get", {"id": deal})["result"]["PROBABILITY"] == "30"
        assert served.healthz()["tasks"] == {"done": 2}

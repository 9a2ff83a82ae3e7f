"""A run killed between batches (or inside one) resumes without duplicates."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from b24kit.sync.connectors.memory import CrashPlan, SimulatedCrash, memory_store, reset_memory_stores

from .conftest import outcomes, profile, sync

KEYED = """
match:
  keys: [{source: email, target: EMAIL, normalise: email}]
fields:
  NAME: name
  EMAIL: {from: email, transform: email}
"""


def seed(src, n: int = 120) -> None:
    for i in range(n):
        src.put("rows", {"name": f"n{i}", "email": f"u{i}@x.ru"}, id=f"s{i:03}")


def crash(p, dst, state, *, after_writes: int, when: str) -> None:
    """Run ``p`` until the target crashes after ``after_writes`` writes; the next run goes through."""
    dst.crash = CrashPlan(after_writes=after_writes, when=when)
    with pytest.raises(SimulatedCrash):
        sync(p, state)
    dst.crash = None


def test_killed_between_batches_resumes_where_it_stopped(src, dst, state):
    """Two batches committed, then the process dies: the rerun writes only the third batch."""
    seed(src)
    p = profile(KEYED)
    crash(p, dst, state, after_writes=2, when="before")
    assert len(dst.rows("contact")) == 100 and len(list(state.export_links("test"))) == 100
    report = sync(p, state)
    assert report.summary()["create"] == 20 and report.summary()["unchanged"] == 100
    assert len(dst.rows("contact")) == 120
    assert "run 1 was interrupted" in report.warnings[0]
    assert [r["status"] for r in state.runs("test")] == ["interrupted", "ok"]


def test_killed_after_a_write_before_its_checkpoint(src, dst, state):
    """The target got batch 2 but the state did not: match keys recognise those records; no duplicates."""
    seed(src)
    p = profile(KEYED)
    crash(p, dst, state, after_writes=2, when="after")
    assert len(dst.rows("contact")) == 100 and len(list(state.export_links("test"))) == 50
    report = sync(p, state)
    assert len(dst.rows("contact")) == 120, "no record was created twice"
    assert report.summary()["create"] == 20
    assert "50 writes of its last batch are recognised again by the match keys" in report.warnings[0]
    assert sync(p, state).writes == 0


def test_without_match_keys_the_warning_says_what_to_check(src, dst, state):
    seed(src, 60)
    p = profile("fields: {NAME: name}")
    crash(p, dst, state, after_writes=1, when="after")
    report = sync(p, state)
    assert "cannot be recognised without match keys: check for duplicates" in report.warnings[0]


def sync_run(profile_path: Path) -> subprocess.CompletedProcess[str]:
    """``b24kit sync run PROFILE`` in a subprocess, in the profile's folder, with its state there."""
    folder = profile_path.parent
    command = [sys.executable, "-c", "from b24kit.cli import main; main()", "sync", "run"]
    return subprocess.run(
        [*command, str(profile_path), "--state", f"sqlite:///{folder}/state.db"],
        capture_output=True,
        text=True,
        cwd=folder,
        env=dict(os.environ),
        timeout=120,
    )


def test_a_real_kill_mid_run(tmp_path: Path):
    """`b24kit sync run` dies with os._exit between a write and its checkpoint; the next run repairs it."""
    reset_memory_stores()
    store = memory_store("src-file")
    store.load(tmp_path / "src.json")
    for i in range(130):
        store.put("rows", {"name": f"n{i}", "email": f"u{i}@x.ru"}, id=f"s{i:03}")
    profile_text = textwrap.dedent("""
        version: 1
        name: killed
        source: {{connector: memory, entity: rows, options: {{store: src, path: src.json}}}}
        target:
          connector: memory
          entity: contact
          options: {{store: dst, path: dst.json{crash}}}
        match:
          keys: [{{source: email, target: EMAIL, normalise: email}}]
        fields:
          NAME: name
          EMAIL: {{from: email, transform: email}}
    """)
    crashing = tmp_path / "crash.yaml"
    crashing.write_text(profile_text.format(crash=", crash_after_writes: 2, crash: after, crash_exit: true"))
    calm = tmp_path / "calm.yaml"
    calm.write_text(profile_text.format(crash=""))
    killed = sync_run(crashing)
    assert killed.returncode == 137, killed.stderr
    resumed = sync_run(calm)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "was interrupted" in resumed.stdout
    reset_memory_stores()
    target = memory_store("dst-check")
    target.load(tmp_path / "dst.json")
    emails = sorted(r["EMAIL"] for r in target.rows("contact").values())
    assert emails == sorted(f"u{i}@x.ru" for i in range(130))
    again = sync_run(calm)
    assert again.returncode == 0 and "130 unchanged" in again.stdout


def test_a_crash_in_a_plan_leaves_no_trace(src, dst, state):
    seed(src, 10)
    p = profile(KEYED)
    report = sync(p, state, plan_only=True)
    assert len(outcomes(report, "create")) == 10
    assert state.runs("test") == [] and dst.writes == []

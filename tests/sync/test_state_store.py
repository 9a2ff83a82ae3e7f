"""The state store on SQLite and PostgreSQL: links, snapshots, cursors, the run log, pending writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from b24kit.errors import ConfigError, SyncError
from b24kit.sync.state import BatchCommit, Link, LogEntry, Pending, Snapshot, StateStore
from tests.conftest import postgres_schema

from .conftest import profile, sync

MSK = timezone(timedelta(hours=3))


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        with StateStore(f"sqlite:///{tmp_path}/nested/dir/state.db") as s:
            yield s
        return
    url = request.getfixturevalue("postgres_url")
    with postgres_schema(url, "b24kit_test") as schema, StateStore(url, schema=schema) as s:
        yield s


def test_links_are_found_from_either_side(store):
    run = store.start_run("p").run_id
    store.commit(
        "p", run, BatchCommit(links=[Link("s1", "t1", seen_run=run), Link("s2", "t2", seen_run=run)])
    )
    assert store.links_by_source("p", ["s1", "s9"]) == {"s1": Link("s1", "t1", "active", run)}
    assert set(store.links_by_target("p", ["t1", "t2"])) == {"t1", "t2"}
    assert store.links_by_source("other-profile", ["s1"]) == {}
    assert store.count_links("p") == 2


def test_a_target_moves_to_a_new_source_record(store):
    """The target id is unique per profile: relinking drops the old pair and its snapshot."""
    run = store.start_run("p").run_id
    store.commit(
        "p", run, BatchCommit(links=[Link("old", "t1")], snapshots={"old": Snapshot({"a": 1}, {"A": 1})})
    )
    store.commit("p", run, BatchCommit(links=[Link("new", "t1")]))
    assert list(store.export_links("p")) == [Link("new", "t1", "active", None)]
    assert store.snapshots("p", ["old"]) == {}


def test_snapshots_keep_values_and_zoned_times(store):
    run = store.start_run("p").run_id
    moment = datetime(2024, 5, 1, 12, 30, tzinfo=MSK)
    snap = Snapshot(
        {"name": "Ann", "tags": ["a", "b"], "n": 1.5},
        {"NAME": "Ann", "EMAIL": [{"VALUE": "a@x.ru"}]},
        moment,
        None,
    )
    store.commit("p", run, BatchCommit(links=[Link("s1", "t1")], snapshots={"s1": snap}))
    (got,) = store.snapshots("p", ["s1"]).values()
    assert (
        got == snap
        and got.source_modified is not None
        and got.source_modified.utcoffset() == timedelta(hours=3)
    )
    assert got.digest() == snap.digest()


def test_cursors_per_profile_and_side(store):
    run = store.start_run("p").run_id
    assert store.cursor("p", "source") is None
    moment = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    store.commit("p", run, BatchCommit(cursors={"source": moment}))
    store.commit("p", run, BatchCommit(cursors={"source": moment + timedelta(hours=1), "target": moment}))
    assert store.cursor("p", "source") == moment + timedelta(hours=1)
    assert store.cursor("p", "target") == moment


def test_seen_marks_find_vanished_records(store):
    first = store.start_run("p").run_id
    store.commit("p", first, BatchCommit(links=[Link(f"s{i}", f"t{i}", seen_run=first) for i in range(3)]))
    second = store.start_run("p").run_id
    store.commit("p", second, BatchCommit(seen=["s0", "s2"], links=[Link("s1", "t1", "deactivated")]))
    store.commit("p", second, BatchCommit(links=[Link("s3", "t3")]))
    assert [link.source_id for link in store.unseen_links("p", second)] == ["s3"]


def test_the_run_log_appends_and_runs_are_tracked(store):
    start = store.start_run("p")
    assert start.interrupted == [] and start.pending == []
    store.commit(
        "p",
        start.run_id,
        BatchCommit(
            log=[
                LogEntry(
                    "create",
                    "row 2",
                    "s1",
                    "t1",
                    "target",
                    [{"field": "NAME", "before": None, "after": "Ann"}],
                ),
                LogEntry("fail", "row 3", None, None, "target", [], "NAME is required"),
            ]
        ),
    )
    store.finish_run(start.run_id, "failed", {"create": 1, "fail": 1})
    entries = store.log_entries("p")
    assert [(e.action, e.ref, e.message) for e in entries] == [
        ("create", "row 2", ""),
        ("fail", "row 3", "NAME is required"),
    ]
    assert entries[0].fields == [{"field": "NAME", "before": None, "after": "Ann"}]
    (run,) = store.runs("p")
    assert run["status"] == "failed" and run["counts"] == {"create": 1, "fail": 1} and run["finished_at"]


def test_pending_writes_survive_a_crash_and_are_reported_once(store):
    crashed = store.start_run("p").run_id
    store.note_pending(
        "p", crashed, [Pending("s1", "target", "create"), Pending("s2", "target", "update", "t2")]
    )
    resumed = store.start_run("p")
    assert resumed.interrupted == [crashed]
    assert sorted((p.record_id, p.op) for p in resumed.pending) == [("s1", "create"), ("s2", "update")]
    assert store.start_run("p").pending == []
    ok = store.start_run("p").run_id
    store.note_pending("p", ok, [Pending("s3", "target", "create")])
    store.commit("p", ok, BatchCommit())
    assert store.start_run("p").pending == []


def test_links_export_and_import(store):
    run = store.start_run("p").run_id
    store.commit("p", run, BatchCommit(links=[Link("s1", "t1"), Link("s2", "t2", "deactivated")]))
    exported = list(store.export_links("p"))
    assert store.import_links("copy", exported) == 2
    assert [(link.source_id, link.target_id, link.state) for link in store.export_links("copy")] == [
        ("s1", "t1", "active"),
        ("s2", "t2", "deactivated"),
    ]
    assert store.import_links("copy", [Link("s9", "t9")], replace=True) == 1
    assert [link.source_id for link in store.export_links("copy")] == ["s9"]


def test_a_whole_sync_on_this_store(store, src, dst):
    """The engine runs the same on SQLite and PostgreSQL: create, then nothing to do."""
    for i in range(60):
        src.put("rows", {"name": f"n{i}"}, id=f"s{i:02}")
    p = profile("fields: {NAME: name}")
    assert sync(p, store).summary()["create"] == 60
    assert sync(p, store).writes == 0
    assert store.count_links("test") == 60


def test_unknown_url_schemes_are_configuration_errors():
    with pytest.raises(ConfigError, match="unsupported state store URL"):
        StateStore("mysql://root@localhost/db")


def test_an_unreachable_database_is_a_sync_error_without_the_password():
    with pytest.raises(SyncError) as caught:
        StateStore("postgresql+psycopg://user:hunter2@127.0.0.1:1/db?connect_timeout=2")
    assert "hunter2" not in str(caught.value)

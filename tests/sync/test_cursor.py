"""Incremental reads: the cursor, its lag window, dedupe at the boundary, backfill, and failures."""

from __future__ import annotations

from datetime import timedelta

from .conftest import T0, Clock, fetches, outcomes, profile, sync


def head(cursor: str) -> str:
    return (
        """
    version: 1
    name: {name}
    source: {{connector: memory, entity: rows, options: {{store: src}}, cursor: """
        + cursor
        + """}}
    target: {{connector: memory, entity: contact, options: {{store: dst}}}}
    """
    )


def seed(src, n: int = 3) -> Clock:
    clock = Clock()
    src.clock = clock
    for i in range(n):
        clock.now = T0 + timedelta(minutes=i)
        src.put("rows", {"name": f"n{i}"}, id=f"s{i}")
    return clock


def test_second_run_reads_from_the_cursor_and_dedupes_the_boundary(src, dst, state):
    clock = seed(src)
    p = profile("fields: {NAME: name}", head=head("{{field: modified}}"))
    assert sync(p, state).summary()["create"] == 3
    assert state.cursor("test", "source") == T0 + timedelta(minutes=2)
    calls = fetches(dst)
    report = sync(p, state)
    assert report.writes == 0 and [o.source_id for o in report.outcomes] == ["s2"]
    assert fetches(dst) == calls, "the boundary record is the version already synced: no fetch"
    clock.now = T0 + timedelta(minutes=10)
    src.edit("rows", "s0", {"name": "changed"})
    report = sync(p, state)
    assert [(o.action, o.source_id) for o in report.outcomes if o.action != "unchanged"] == [("update", "s0")]


def test_the_lag_window_rereads_late_changes_without_writing(src, dst, state):
    seed(src)
    p = profile("fields: {NAME: name}", head=head("{{field: modified, lag_seconds: 3600}}"))
    sync(p, state)
    report = sync(p, state)
    assert sorted(o.source_id for o in report.outcomes) == ["s0", "s1", "s2"]
    assert report.writes == 0 and fetches(dst) == 0


def test_a_change_stamped_in_the_past_is_caught_by_the_lag(src, dst, state):
    """A record saved with a clock that runs behind still syncs when it falls inside the lag window."""
    seed(src)
    lagged = profile(
        "fields: {NAME: name}", head=head("{{field: modified, lag_seconds: 600}}"), name="lagged"
    )
    exact = profile("fields: {NAME: name}", head=head("{{field: modified}}"), name="exact")
    sync(lagged, state)
    sync(exact, state)
    src.edit(
        "rows", "s0", {"name": "late"}, modified=T0 + timedelta(minutes=1, seconds=30)
    )  # before the cursor
    assert [o.source_id for o in outcomes(sync(lagged, state), "update")] == ["s0"]
    assert outcomes(sync(exact, state), "update") == []


def test_backfill_none_starts_from_now(src, dst, state):
    clock = seed(src)
    p = profile("fields: {NAME: name}", head=head("{{field: modified, backfill: none}}"))
    start = T0 + timedelta(hours=1)
    report = sync(p, state, now=start)
    assert report.outcomes == [] and state.cursor("test", "source") == start
    clock.now = T0 + timedelta(hours=2)
    src.put("rows", {"name": "new"}, id="s9")
    assert [o.source_id for o in outcomes(sync(p, state), "create")] == ["s9"]


def test_backfill_since_a_date(src, dst, state):
    seed(src)
    p = profile(
        "fields: {NAME: name}", head=head("{{field: modified, backfill: '2024-05-01T12:01:00+00:00'}}")
    )
    assert sorted(o.source_id for o in outcomes(sync(p, state), "create")) == ["s1", "s2"]


def test_a_failed_record_holds_the_cursor_back(src, dst, state):
    clock = seed(src)
    src.edit("rows", "s1", {"name": ""}, modified=T0 + timedelta(minutes=1))
    p = profile("fields: {NAME: {from: name, required: true}}", head=head("{{field: modified}}"))
    report = sync(p, state)
    assert [o.source_id for o in outcomes(report, "fail")] == ["s1"]
    assert state.cursor("test", "source") == T0 + timedelta(minutes=1)
    clock.now = T0 + timedelta(minutes=1)
    src.edit("rows", "s1", {"name": "fixed"}, modified=T0 + timedelta(minutes=1))
    assert [o.source_id for o in outcomes(sync(p, state), "create")] == ["s1"]


def test_a_full_run_ignores_the_cursor(src, dst, state):
    seed(src)
    p = profile("fields: {NAME: name}", head=head("{{field: modified}}"))
    sync(p, state)
    assert len(sync(p, state, full=True).outcomes) == 3

"""Records gone from the source: ignored, deactivated or deleted, behind a guard; protected ones never."""

from __future__ import annotations

from .conftest import outcomes, profile, sync

DEACTIVATE = """
fields:
  NAME: name
  ACTIVE: {const: Y}
deletes:
  mode: deactivate
  deactivate: {ACTIVE: N}
  reactivate: {ACTIVE: Y}
  guard: {max_count: 3}
"""


def seed(src, n: int = 5) -> None:
    for i in range(n):
        src.put("rows", {"name": f"n{i}", "disabled": False}, id=f"s{i}")


def target_of(state, source_id: str) -> str:
    return next(link.target_id for link in state.export_links("test") if link.source_id == source_id)


def test_ignore_is_the_default(src, dst, state):
    seed(src)
    p = profile("fields: {NAME: name}")
    sync(p, state)
    src.remove("rows", "s0")
    report = sync(p, state)
    assert report.writes == 0 and len(dst.rows("contact")) == 5


def test_missing_source_records_are_deactivated_once(src, dst, state):
    seed(src)
    p = profile(DEACTIVATE)
    sync(p, state)
    src.remove("rows", "s1")
    report = sync(p, state)
    (gone,) = outcomes(report, "deactivate")
    assert gone.source_id == "s1" and [(c.field, c.after) for c in gone.changes] == [("ACTIVE", "N")]
    assert dst.rows("contact")[target_of(state, "s1")]["ACTIVE"] == "N"
    assert {link.source_id: link.state for link in state.export_links("test")}["s1"] == "deactivated"
    assert sync(p, state).writes == 0, "an already deactivated record is not written again"


def test_a_returning_record_is_reactivated(src, dst, state):
    seed(src)
    p = profile(DEACTIVATE)
    sync(p, state)
    src.remove("rows", "s1")
    sync(p, state)
    src.put("rows", {"name": "n1", "disabled": False}, id="s1")
    report = sync(p, state)
    (back,) = outcomes(report, "update")
    assert [(c.field, c.after) for c in back.changes] == [("ACTIVE", "Y")]
    assert {link.source_id: link.state for link in state.export_links("test")}["s1"] == "active"


def test_inactive_source_records_count_as_deleted(src, dst, state):
    """AD: an account disabled at the source is deactivated in the portal."""
    seed(src)
    p = profile(DEACTIVATE + "  inactive_when: [{field: disabled, equals: true}]\n")
    sync(p, state)
    src.edit("rows", "s2", {"disabled": True})
    report = sync(p, state)
    assert [o.source_id for o in outcomes(report, "deactivate")] == ["s2"]
    src.put("rows", {"name": "new but disabled", "disabled": True}, id="s9")
    report = sync(p, state)
    assert report.writes == 0, "an inactive record that was never linked is not created"


def test_delete_mode_removes_the_target_and_the_link(src, dst, state):
    seed(src)
    p = profile("fields: {NAME: name}\ndeletes: {mode: delete}\n")
    sync(p, state)
    doomed = target_of(state, "s4")
    src.remove("rows", "s4")
    report = sync(p, state)
    assert [o.target_id for o in outcomes(report, "delete")] == [doomed]
    assert doomed not in dst.rows("contact")
    assert "s4" not in {link.source_id for link in state.export_links("test")}


def test_the_guard_stops_a_mass_deactivation(src, dst, state):
    """Four records gone with max_count 3: nothing is deactivated and the run says why."""
    seed(src)
    p = profile(DEACTIVATE)
    sync(p, state)
    for i in range(4):
        src.remove("rows", f"s{i}")
    report = sync(p, state)
    assert report.guard is not None and "would deactivate 4 records" in report.guard
    assert outcomes(report, "deactivate") == [] and all(
        r["ACTIVE"] == "Y" for r in dst.rows("contact").values()
    )
    assert state.runs("test")[-1]["status"] == "guarded"
    forced = sync(p, state, force_deletes=True)
    assert len(outcomes(forced, "deactivate")) == 4


def test_the_guard_by_share_of_linked_records(src, dst, state):
    seed(src, 10)
    p = profile(DEACTIVATE.replace("{max_count: 3}", "{max_count: null, max_share: 10%}"))
    sync(p, state)
    src.remove("rows", "s0")
    assert len(outcomes(sync(p, state), "deactivate")) == 1
    src.remove("rows", "s1")
    src.remove("rows", "s2")
    report = sync(p, state)
    assert report.guard is not None and "2 of 9 linked records (22%)" in report.guard


def test_an_empty_source_trips_the_guard(src, dst, state):
    """A truncated export (everything gone) never wipes the portal."""
    seed(src)
    p = profile(DEACTIVATE.replace("{max_count: 3}", "{max_share: 0.5}"))
    sync(p, state)
    for i in range(5):
        src.remove("rows", f"s{i}")
    report = sync(p, state)
    assert report.guard is not None and outcomes(report, "deactivate") == []


def test_protected_records_are_never_deactivated(src, dst, state):
    seed(src)
    p = profile(DEACTIVATE + "protected: {match_any: [{field: NAME, in: [n0]}]}\n")
    sync(p, state)
    protected_id = target_of(state, "s0")
    src.remove("rows", "s0")
    src.remove("rows", "s1")
    report = sync(p, state)
    assert [o.source_id for o in outcomes(report, "deactivate")] == ["s1"]
    (kept,) = outcomes(report, "skip")
    assert kept.target_id == protected_id and kept.reason == "protected record: not deactivated"
    assert dst.rows("contact")[protected_id]["ACTIVE"] == "Y"


def test_protected_by_id(src, dst, state):
    seed(src, 2)
    sync(profile(DEACTIVATE), state)
    first = target_of(state, "s0")
    src.remove("rows", "s0")
    report = sync(profile(DEACTIVATE + f"protected: {{ids: [{first}]}}\n"), state)
    assert outcomes(report, "deactivate") == [] and outcomes(report, "skip")[0].target_id == first


def test_plan_lists_deactivations_without_writing(src, dst, state):
    seed(src)
    p = profile(DEACTIVATE)
    sync(p, state)
    src.remove("rows", "s3")
    writes_before = len(dst.writes)
    plan = sync(p, state, plan_only=True)
    assert [o.source_id for o in outcomes(plan, "deactivate")] == ["s3"]
    assert len(dst.writes) == writes_before


def test_incremental_reads_never_sweep(src, dst, state):
    """Only a complete read proves a record is gone; an incremental one only shows what changed."""
    head = """
    version: 1
    name: {name}
    source: {{connector: memory, entity: rows, options: {{store: src}}, cursor: {{field: modified}}}}
    target: {{connector: memory, entity: contact, options: {{store: dst}}}}
    """
    seed(src)
    p = profile(DEACTIVATE, head=head)
    sync(p, state)
    src.edit("rows", "s0", {"name": "changed"})
    report = sync(p, state)
    assert outcomes(report, "deactivate") == [] and len(outcomes(report, "update")) == 1
    src.remove("rows", "s1")
    assert outcomes(sync(p, state, full=True), "deactivate")[0].source_id == "s1"

"""Two-way engine rules the Jira sync relies on, shown with memory stores: conflicts in the run log,
links kept on both records, fields recomputed on change, echoes recognised, targeted runs, and
what a vanished partner does."""

from __future__ import annotations

from typing import Any

import pytest

from b24kit.sync import load_profile_text
from b24kit.sync.connectors.memory import MemoryStore
from b24kit.sync.loader import ProfileError
from tests.sync.conftest import Clock, fetches, outcomes, profile, sync

HEAD = """
version: 1
name: {name}
source: {{connector: memory, entity: rows, options: {{store: src}}, cursor: {{field: modified}}}}
target: {{connector: memory, entity: deal, options: {{store: dst}}, cursor: {{field: modified}}}}
"""
BODY = """
direction: two_way
fields:
  TITLE: summary
  STAGE_ID: {from: status, map: {open: NEW, done: WON}}
  AMOUNT: {from: amount, owner: source}
"""


@pytest.fixture
def clock(src: MemoryStore, dst: MemoryStore) -> Clock:
    moment = Clock()
    src.clock = dst.clock = moment
    return moment


def only_deal(dst: MemoryStore) -> tuple[str, dict[str, Any]]:
    ((deal_id, deal),) = dst.rows("deal").items()
    return deal_id, deal


def test_a_conflict_is_resolved_by_the_rule_and_written_to_the_run_log(src, dst, state, clock):
    src.put("rows", {"summary": "Laptop", "status": "open", "amount": 10}, id="s1")
    p = profile(BODY, head=HEAD)
    sync(p, state)
    deal_id, _ = only_deal(dst)
    clock.tick()
    src.edit("rows", "s1", {"summary": "Laptop (Jira)", "amount": 20})
    clock.tick()
    dst.edit("deal", deal_id, {"TITLE": "Laptop (deal)", "AMOUNT": 30})
    report = sync(p, state)
    assert src.rows("rows")["s1"]["summary"] == "Laptop (deal)" == dst.rows("deal")[deal_id]["TITLE"]
    assert src.rows("rows")["s1"]["amount"] == 20 == dst.rows("deal")[deal_id]["AMOUNT"]
    assert report.conflicts == 2
    (update,) = outcomes(report, "update")
    assert sorted(update.conflicts) == [
        "conflict on AMOUNT: both sides changed it since the last sync; its owner (source) wins",
        "conflict on TITLE: both sides changed it since the last sync; the newest change (target) wins",
    ]
    (logged,) = [e for e in state.log_entries("test", report.run_id) if e.action == "update"]
    assert "conflict on TITLE" in logged.message and "conflict on AMOUNT" in logged.message
    assert {(f["side"], f["field"], f["after"]) for f in logged.fields} == {
        ("source", "summary", "Laptop (deal)"),
        ("target", "AMOUNT", 20),
    }
    clock.tick()
    assert sync(p, state).writes == 0


def test_the_same_value_on_both_sides_is_no_conflict(src, dst, state, clock):
    src.put("rows", {"summary": "Laptop", "status": "open", "amount": 10}, id="s1")
    p = profile(BODY, head=HEAD)
    sync(p, state)
    deal_id, _ = only_deal(dst)
    clock.tick()
    src.edit("rows", "s1", {"summary": "Same"})
    dst.edit("deal", deal_id, {"TITLE": "Same"})
    report = sync(p, state)
    assert report.conflicts == 0 and report.writes == 0


LINKED = (
    BODY
    + """
link_fields:
  source: {field: deal_id}
  target: {field: SOURCE_KEY, from: key}
match:
  keys:
    - {source: key, target: SOURCE_KEY}
    - {source: deal_id, target: $id}
"""
)


def test_the_link_is_stored_on_both_records_whichever_side_created_it(src, dst, state, clock):
    src.put("rows", {"key": "OPS-1", "summary": "From source", "status": "open"}, id="s1")
    dst.put("deal", {"TITLE": "From target", "STAGE_ID": "WON"}, id="d1")
    p = profile(LINKED, head=HEAD)
    report = sync(p, state)
    assert report.summary()["create"] == 2
    deals = dst.rows("deal")
    (new_deal,) = [i for i in deals if i != "d1"]
    assert deals[new_deal]["SOURCE_KEY"] == "OPS-1" and src.rows("rows")["s1"]["deal_id"] == new_deal
    (new_row,) = [i for i in src.rows("rows") if i != "s1"]
    assert src.rows("rows")[new_row]["deal_id"] == "d1"
    assert "SOURCE_KEY" not in deals["d1"], "a source record without a key leaves nothing to store"
    (made,) = [o for o in outcomes(report, "create") if o.target_id == "d1"]
    assert made.reason == "SOURCE_KEY not stored: the new record has no key"
    links = {(link.source_id, link.target_id) for link in state.export_links("test")}
    assert links == {("s1", new_deal), (new_row, "d1")}


def test_a_link_field_that_drifted_is_put_back(src, dst, state, clock):
    src.put("rows", {"key": "OPS-1", "summary": "A", "status": "open"}, id="s1")
    p = profile(LINKED, head=HEAD)
    sync(p, state)
    deal_id, _ = only_deal(dst)
    clock.tick()
    dst.edit("deal", deal_id, {"SOURCE_KEY": ""})
    src.edit("rows", "s1", {"deal_id": "999"})
    report = sync(p, state)
    assert dst.rows("deal")[deal_id]["SOURCE_KEY"] == "OPS-1"
    assert src.rows("rows")["s1"]["deal_id"] == deal_id
    assert report.summary()["update"] == 1
    clock.tick()
    assert sync(p, state).writes == 0


def test_link_fields_that_write_the_source_need_two_way():
    with pytest.raises(ProfileError, match="needs direction: two_way"):
        load_profile_text(
            HEAD.format(name="x") + "fields: {TITLE: summary}\nlink_fields: {source: {field: deal_id}}\n",
            source="p.yaml",
            env={},
        )


COMPUTED = (
    BODY
    + """
computed:
  target:
    DISTRIBUTOR:
      from: [AMOUNT, COST_CENTER]
      transform: {name: call, function: "tests.sync.jira.rules:distributor"}
    PHASE: {from: STAGE_ID, map: {NEW: early, WON: late}}
"""
)


def test_fields_are_recomputed_from_the_record_when_it_changes(src, dst, state, clock):
    src.put("rows", {"summary": "Servers", "status": "open", "amount": 5000}, id="s1")
    p = profile(COMPUTED, head=HEAD)
    sync(p, state)
    deal_id, deal = only_deal(dst)
    assert deal["PHASE"] == "early" and "DISTRIBUTOR" not in deal
    clock.tick()
    dst.edit("deal", deal_id, {"COST_CENTER": "Sales"})
    report = sync(p, state)
    assert dst.rows("deal")[deal_id]["DISTRIBUTOR"] == "Merlion"
    assert [(c.side, c.field, c.after) for c in outcomes(report, "update")[0].changes] == [
        ("target", "DISTRIBUTOR", "Merlion")
    ]
    clock.tick()
    src.edit("rows", "s1", {"amount": 2_000_000, "status": "done"})
    sync(p, state)
    deal = dst.rows("deal")[deal_id]
    assert (deal["DISTRIBUTOR"], deal["PHASE"], deal["STAGE_ID"]) == ("Direct", "late", "WON")
    clock.tick()
    assert sync(p, state).writes == 0


def test_a_hook_that_refuses_fails_only_its_record(src, dst, state, clock):
    body = (
        BODY
        + """
computed:
  target:
    CHECK: {from: TITLE, transform: {name: call, function: "tests.sync.jira.rules:refuse"}}
"""
    )
    src.put("rows", {"summary": "A", "status": "open"}, id="s1")
    report = sync(profile(body, head=HEAD), state)
    (failed,) = outcomes(report, "fail")
    assert failed.reason == "CHECK: 'A' is refused by the hook"
    crash = body.replace("rules:refuse", "rules:crash")
    report = sync(profile(crash, name="crash", head=HEAD), state)
    assert outcomes(report, "fail")[0].reason == (
        "CHECK: hook tests.sync.jira.rules:crash failed: ZeroDivisionError: division by zero"
    )


def test_an_unknown_hook_is_a_profile_error():
    text = (
        HEAD.format(name="x")
        + BODY
        + ("computed: {target: {X: {from: TITLE, transform: {name: call, function: 'no.such:thing'}}}}\n")
    )
    with pytest.raises(ProfileError, match=r"cannot import 'no\.such'"):
        load_profile_text(text, source="p.yaml", env={})


def test_our_own_writes_are_recognised_without_reading_partners_again(src, dst, state, clock):
    for i in range(3):
        src.put("rows", {"summary": f"S{i}", "status": "open", "amount": i}, id=f"s{i}")
    p = profile(LINKED, head=HEAD)
    sync(p, state)
    clock.tick()
    before = (fetches(src), fetches(dst))
    report = sync(p, state)
    assert report.writes == 0 and report.summary()["unchanged"] > 0
    assert (fetches(src), fetches(dst)) == before, "records we wrote are not re-compared with partners"
    clock.tick()
    deal_id = next(i for i, d in dst.rows("deal").items() if d["TITLE"] == "S1")
    dst.edit("deal", deal_id, {"TITLE": "S1 renamed"})
    report = sync(p, state)
    assert [(o.source_id, o.changes[0].after) for o in outcomes(report, "update")] == [("s1", "S1 renamed")]
    clock.tick()
    before = (fetches(src), fetches(dst))
    assert sync(p, state).writes == 0
    assert (fetches(src), fetches(dst)) == before


def test_a_targeted_run_syncs_only_the_given_records_and_keeps_the_cursor(src, dst, state, clock):
    src.put("rows", {"summary": "A", "status": "open"}, id="s1")
    src.put("rows", {"summary": "B", "status": "open"}, id="s2")
    p = profile(BODY, head=HEAD)
    sync(p, state)
    cursor = state.cursor("test", "source")
    clock.tick()
    src.edit("rows", "s1", {"summary": "A2"})
    src.edit("rows", "s2", {"summary": "B2"})
    report = sync(p, state, only={"source": ["s1"]})
    titles = sorted(d["TITLE"] for d in dst.rows("deal").values())
    assert titles == ["A2", "B"] and report.summary()["update"] == 1
    assert state.cursor("test", "source") == cursor
    report = sync(p, state)
    assert sorted(d["TITLE"] for d in dst.rows("deal").values()) == ["A2", "B2"]


def test_a_targeted_run_of_a_deleted_source_applies_the_delete_rule(src, dst, state, clock):
    src.put("rows", {"summary": "A", "status": "open"}, id="s1")
    p = profile(BODY + "deletes: {mode: deactivate, deactivate: {STAGE_ID: LOSE}}\n", head=HEAD)
    sync(p, state)
    src.remove("rows", "s1")
    report = sync(p, state, only={"source": ["s1"]})
    assert only_deal(dst)[1]["STAGE_ID"] == "LOSE" and report.summary()["deactivate"] == 1


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{target_missing: deactivate_source, deactivate_source: {status: done}}", {"status": "done"}),
        ("{target_missing: delete_source}", None),
        ("{target_missing: unlink}", {"status": "open"}),
    ],
)
def test_a_vanished_target_closes_or_deletes_its_source_or_is_left(src, dst, state, clock, rule, expected):
    src.put("rows", {"summary": "A", "status": "open"}, id="s1")
    p = profile(BODY + f"deletes: {rule}\n", head=HEAD)
    sync(p, state)
    deal_id, _ = only_deal(dst)
    dst.remove("deal", deal_id)
    clock.tick()
    src.edit("rows", "s1", {"summary": "edited"})
    sync(p, state)
    row = src.rows("rows").get("s1")
    assert (row if row is None else {"status": row["status"]}) == expected
    assert dst.rows("deal") == {}, "nothing is recreated"
    clock.tick()
    if row is not None:
        src.edit("rows", "s1", {"summary": "edited again"})
    report = sync(p, state, full=True)
    assert dst.rows("deal") == {} and report.writes == 0


def test_a_source_gone_seen_from_the_target_side_is_deactivated(src, dst, state, clock):
    src.put("rows", {"summary": "A", "status": "open"}, id="s1")
    p = profile(BODY + "deletes: {mode: deactivate, deactivate: {STAGE_ID: LOSE}}\n", head=HEAD)
    sync(p, state)
    deal_id, _ = only_deal(dst)
    src.remove("rows", "s1")
    clock.tick()
    dst.edit("deal", deal_id, {"AMOUNT": 1})
    report = sync(p, state)
    assert only_deal(dst)[1]["STAGE_ID"] == "LOSE" and report.summary()["deactivate"] == 1
    assert src.rows("rows") == {}, "the deal does not bring its issue back"


def test_a_source_gone_with_deletes_ignored_is_never_recreated(src, dst, state, clock):
    src.put("rows", {"summary": "A", "status": "open"}, id="s1")
    p = profile(BODY, head=HEAD)
    sync(p, state)
    deal_id, _ = only_deal(dst)
    src.remove("rows", "s1")
    clock.tick()
    dst.edit("deal", deal_id, {"AMOUNT": 2})
    report = sync(p, state)
    (skipped,) = outcomes(report, "skip")
    assert skipped.reason == "its source record s1 no longer exists; the pair is closed"
    assert [link.state for link in state.export_links("test")] == ["gone"]
    clock.tick()
    dst.edit("deal", deal_id, {"AMOUNT": 3})
    report = sync(p, state, full=True)
    assert src.rows("rows") == {} and report.writes == 0


def test_an_edit_with_the_same_modification_time_as_our_write_is_still_seen(src, dst, state, clock):
    """Portals keep DATE_MODIFY in seconds: a person's edit in the second of our write looks the same."""
    src.put("rows", {"summary": "A", "status": "open"}, id="s1")
    p = profile(BODY, head=HEAD)
    sync(p, state)
    deal_id, _ = only_deal(dst)
    stamp = dst.modified["deal"][deal_id]
    dst.edit("deal", deal_id, {"TITLE": "A, edited at once"}, modified=stamp)
    report = sync(p, state)
    assert src.rows("rows")["s1"]["summary"] == "A, edited at once" and report.summary()["update"] == 1

"""Two-way sync: changes flow both ways per field, conflicts resolve by owner or newest, no echo, no loop."""

from __future__ import annotations

from b24kit.sync.connectors.memory import MemoryStore

from .conftest import Clock, outcomes, profile, sync

TWO_WAY = """
direction: two_way
match:
  keys: [{source: email, target: EMAIL, normalise: email}]
fields:
  NAME: name
  EMAIL: {from: email, transform: email}
  STAGE_ID: {from: status, map: {open: NEW, done: WON}}
  POST: {from: title, owner: source}
  NOTE: {from: note, owner: target}
  CODE: {from: code, direction: to_target}
  FEEDBACK: {from: feedback, direction: to_source}
"""


def seeded(src: MemoryStore, dst: MemoryStore) -> Clock:
    clock = Clock()
    src.clock = dst.clock = clock
    src.put(
        "rows",
        {
            "name": "Ann",
            "email": "ann@x.ru",
            "status": "open",
            "title": "CEO",
            "note": "n",
            "code": "A1",
            "feedback": "",
        },
        id="s1",
    )
    dst.put(
        "contact",
        {
            "NAME": "Bob",
            "EMAIL": "bob@x.ru",
            "STAGE_ID": "WON",
            "POST": "CTO",
            "NOTE": "",
            "CODE": "",
            "FEEDBACK": "great",
        },
        id="t1",
    )
    return clock


def test_missing_records_are_created_on_either_side(src, dst, state):
    seeded(src, dst)
    report = sync(profile(TWO_WAY), state)
    created = {o.side: o for o in outcomes(report, "create")}
    assert set(created) == {"source", "target"}
    new_source = src.rows("rows")[created["source"].source_id]
    assert new_source == {
        "name": "Bob",
        "email": "bob@x.ru",
        "status": "done",
        "title": "CTO",
        "note": "",
        "feedback": "great",
    }
    new_target = dst.rows("contact")[created["target"].target_id]
    assert new_target["STAGE_ID"] == "NEW" and new_target["CODE"] == "A1"
    assert {(link.source_id, link.target_id) for link in state.export_links("test")} == {
        ("s1", created["target"].target_id),
        (created["source"].source_id, "t1"),
    }


def test_no_echo_and_no_loop(src, dst, state):
    """Our own writes come back as changes on the next read; the snapshots recognise them: zero writes."""
    clock = seeded(src, dst)
    p = profile(TWO_WAY)
    sync(p, state)
    for _ in range(3):
        clock.tick()
        before = (len(src.writes), len(dst.writes))
        report = sync(p, state)
        assert report.writes == 0 and (len(src.writes), len(dst.writes)) == before


def test_a_change_on_either_side_reaches_the_other_once(src, dst, state):
    clock = seeded(src, dst)
    p = profile(TWO_WAY)
    sync(p, state)
    (t_ann,) = [i for i, r in dst.rows("contact").items() if r["NAME"] == "Ann"]
    clock.tick()
    dst.edit("contact", t_ann, {"STAGE_ID": "WON", "FEEDBACK": "ok"})
    src.edit("rows", "s1", {"title": "Chair"})
    report = sync(p, state)
    (update,) = outcomes(report, "update")
    assert sorted((c.side, c.field, c.after) for c in update.changes) == [
        ("source", "feedback", "ok"),
        ("source", "status", "done"),
        ("target", "POST", "Chair"),
    ]
    assert src.rows("rows")["s1"]["status"] == "done"
    assert dst.rows("contact")[t_ann]["POST"] == "Chair"
    clock.tick()
    assert sync(p, state).writes == 0


def test_conflicts_go_to_the_owner_or_the_newest_change(src, dst, state):
    """Both sides changed: POST belongs to the source, NOTE to the target, NAME goes to the newest."""
    clock = seeded(src, dst)
    p = profile(TWO_WAY)
    sync(p, state)
    (t_ann,) = [i for i, r in dst.rows("contact").items() if r["NAME"] == "Ann"]
    clock.tick()
    src.edit("rows", "s1", {"name": "Ann (source)", "title": "src title", "note": "src note"})
    clock.tick()
    dst.edit("contact", t_ann, {"NAME": "Ann (target)", "POST": "tgt title", "NOTE": "tgt note"})
    sync(p, state)
    assert dst.rows("contact")[t_ann]["POST"] == "src title"
    assert src.rows("rows")["s1"]["note"] == "tgt note"
    assert src.rows("rows")["s1"]["name"] == "Ann (target)" == dst.rows("contact")[t_ann]["NAME"]
    clock.tick()
    src.edit("rows", "s1", {"name": "Ann (newer source)"})
    clock.tick(-5)
    dst.edit("contact", t_ann, {"NAME": "Ann (older target)"}, modified=clock.now)
    sync(p, state)
    assert dst.rows("contact")[t_ann]["NAME"] == "Ann (newer source)"


def test_profile_conflict_rule_replaces_newest(src, dst, state):
    clock = seeded(src, dst)
    p = profile(TWO_WAY + "conflict: source\n")
    sync(p, state)
    (t_ann,) = [i for i, r in dst.rows("contact").items() if r["NAME"] == "Ann"]
    clock.tick()
    src.edit("rows", "s1", {"name": "from source"})
    clock.tick()
    dst.edit("contact", t_ann, {"NAME": "from target, later"})
    sync(p, state)
    assert dst.rows("contact")[t_ann]["NAME"] == "from source"


def test_one_way_fields_in_a_two_way_profile(src, dst, state):
    """CODE flows only to the target, FEEDBACK only back to the source."""
    clock = seeded(src, dst)
    p = profile(TWO_WAY)
    sync(p, state)
    (t_ann,) = [i for i, r in dst.rows("contact").items() if r["NAME"] == "Ann"]
    clock.tick()
    dst.edit("contact", t_ann, {"FEEDBACK": "from the target"})
    sync(p, state)
    assert src.rows("rows")["s1"]["feedback"] == "from the target"
    clock.tick()
    dst.edit("contact", t_ann, {"CODE": "edited in target"})
    src.edit("rows", "s1", {"feedback": "edited in source"})
    report = sync(p, state)
    assert dst.rows("contact")[t_ann]["CODE"] == "A1", "the source owns CODE: the edit is undone"
    assert src.rows("rows")["s1"]["feedback"] == "from the target", "the target owns FEEDBACK"
    assert report.writes == 1 and report.summary()["update"] == 1


def test_incremental_two_way_reads_only_changes(src, dst, state):
    head = """
    version: 1
    name: {name}
    source: {{connector: memory, entity: rows, options: {{store: src}}, cursor: {{field: modified}}}}
    target: {{connector: memory, entity: contact, options: {{store: dst}}, cursor: {{field: modified}}}}
    """
    clock = seeded(src, dst)
    p = profile(TWO_WAY, head=head)
    sync(p, state)
    assert state.cursor("test", "source") is not None and state.cursor("test", "target") is not None
    clock.tick()
    report = sync(p, state)
    assert report.writes == 0
    assert [kind for kind, *_ in dst.calls].count("fetch") <= 2
    clock.tick()
    (t_bob,) = [i for i, r in dst.rows("contact").items() if r["NAME"] == "Bob"]
    dst.edit("contact", t_bob, {"NAME": "Robert"})
    report = sync(p, state)
    assert [(o.side, o.changes[0].after) for o in outcomes(report, "update")] == [("source", "Robert")]

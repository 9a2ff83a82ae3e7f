"""Properties of mapping and planning: two-way maps round-trip; applying a plan twice changes nothing."""

from __future__ import annotations

import string
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24kit.sync import StateStore
from b24kit.sync.connectors.memory import MemoryConnector, MemoryOptions, memory_store, reset_memory_stores
from b24kit.sync.engine.io import FieldContext, SideIO
from b24kit.sync.mapping import compile_fields, forward, reverse
from b24kit.sync.records import Record

from .conftest import profile, sync

words = st.text(alphabet=string.ascii_letters + "абвгд", min_size=1, max_size=8)


def context() -> FieldContext:
    return FieldContext(SideIO("target", MemoryConnector(MemoryOptions(store="props")), "contact", 50), "X")


@settings(max_examples=60, deadline=None)
@given(
    pairs=st.dictionaries(words, words, min_size=1, max_size=6).filter(
        lambda d: len(set(d.values())) == len(d)
    ),
    data=st.data(),
)
def test_an_injective_value_map_round_trips(pairs, data):
    """For a one-to-one map, mapping a value to the target and back gives the value again."""
    text = "direction: two_way\nfields:\n  X:\n    from: x\n    map:\n" + "".join(
        f"      {k!r}: {v!r}\n" for k, v in pairs.items()
    )
    (field,) = compile_fields(profile(text))
    key = data.draw(st.sampled_from(sorted(pairs)))
    ctx = context()
    there = forward(field, Record("1", {"x": key}), ctx)
    back = reverse(field, Record("t", {"X": there}), ctx)
    assert back == key


@settings(max_examples=60, deadline=None)
@given(
    day=st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    amount=st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
    flag=st.booleans(),
    name=words,
)
def test_reversible_transforms_round_trip(day, amount, flag, name):
    p = profile("""
        direction: two_way
        fields:
          D: {from: d, transform: {name: date, formats: ["%d.%m.%Y"]}}
          N: {from: n, transform: number}
          F: {from: f, transform: boolean}
          T: {from: t, transform: text}
    """)
    ctx = context()
    source = Record("1", {"d": day.strftime("%d.%m.%Y"), "n": float(amount), "f": flag, "t": f"  {name} "})
    fields = compile_fields(p)
    target = Record("t", {f.name: forward(f, source, ctx) for f in fields})
    back = {f.source_path: reverse(f, target, ctx) for f in fields}
    assert back["d"] == day.strftime("%d.%m.%Y")
    assert back["n"] == float(amount) and back["f"] is flag and back["t"] == name
    again = {f.name: forward(f, Record("1", back), ctx) for f in fields}
    assert again == dict(target.fields), "forward(reverse(forward(x))) == forward(x)"


rows = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.one_of(st.just(""), words),
            "email": st.one_of(st.just(""), st.sampled_from(["a@x.ru", "B@x.ru", "c@x.ru", "bad@"])),
            "status": st.sampled_from(["open", "won", "odd"]),
            "note": st.one_of(st.none(), words),
        }
    ),
    max_size=12,
)

ONE_WAY = """
match:
  keys: [{source: email, target: EMAIL, normalise: email}]
fields:
  NAME: {from: name, required: true}
  EMAIL: {from: email, transform: email}
  STAGE_ID: {from: status, map: {open: NEW, won: WON}, unmapped: default, default: NEW}
  COMMENTS: {from: note, empty: clear}
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=rows, existing=rows)
def test_applying_twice_changes_nothing(data, existing):
    """Whatever the source and target hold, the second run plans and writes nothing."""
    reset_memory_stores()
    src, dst = memory_store("src"), memory_store("dst")
    for i, row in enumerate(data):
        src.put("rows", row, id=f"s{i}")
    for row in existing:
        dst.put("contact", {"NAME": row["name"], "EMAIL": row["email"], "STAGE_ID": "NEW"})
    p = profile(ONE_WAY)
    with StateStore("sqlite://") as state:
        sync(p, state)
        snapshot = dst.rows("contact")
        writes = len(dst.writes)
        plan = sync(p, state, plan_only=True)
        assert [o for o in plan.outcomes if o.action in ("create", "update")] == []
        second = sync(p, state)
        assert second.writes == 0 and len(dst.writes) == writes and dst.rows("contact") == snapshot


edits = st.lists(st.tuples(st.sampled_from(["source", "target"]), st.integers(0, 4), words), max_size=6)


@settings(max_examples=30, deadline=None)
@given(edits=edits)
def test_two_way_converges_and_then_stays_quiet(edits):
    """After random edits on both sides, one run makes them agree and the next writes nothing."""
    reset_memory_stores()
    src, dst = memory_store("src"), memory_store("dst")
    for i in range(5):
        src.put("rows", {"name": f"n{i}", "email": f"u{i}@x.ru"}, id=f"s{i}")
    p = profile("""
        direction: two_way
        match: {keys: [{source: email, target: EMAIL, normalise: email}]}
        fields:
          NAME: name
          EMAIL: {from: email, direction: to_target}
    """)
    with StateStore("sqlite://") as state:
        sync(p, state)
        links = {link.source_id: link.target_id for link in state.export_links("test")}
        for side, index, value in edits:
            if side == "source":
                src.edit("rows", f"s{index}", {"name": value})
            else:
                dst.edit("contact", links[f"s{index}"], {"NAME": value})
        sync(p, state)
        for source_id, target_id in links.items():
            assert src.rows("rows")[source_id]["name"] == dst.rows("contact")[target_id]["NAME"]
        assert sync(p, state).writes == 0

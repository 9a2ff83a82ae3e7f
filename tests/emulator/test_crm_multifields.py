"""Multifield write rules (add / change / delete by ID) against a simple model, with hypothesis."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from b24kit.emulator.crm.multifields import aliases, fm_view, merge, merge_fm

values = st.text(alphabet="12 ab", max_size=4)
value_types = st.sampled_from(["WORK", "mobile", "HOME", None])


@st.composite
def edits(draw: st.DrawFn, known: int) -> list[dict[str, Any]]:
    """Entries of one write: adds, changes, the three documented deletes, and foreign ids."""
    result: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(
            st.sampled_from(["add", "change", "delete_flag", "delete_empty", "delete_bare", "foreign"])
        )
        target = draw(st.integers(1, max(known, 1)))
        if kind == "add":
            entry: dict[str, Any] = {"VALUE": draw(values)}
            if (vt := draw(value_types)) is not None:
                entry["VALUE_TYPE"] = vt
        elif kind == "change":
            entry = {
                "ID": str(target) if draw(st.booleans()) else target,
                "VALUE": draw(values),
                "VALUE_TYPE": draw(value_types),
            }
        elif kind == "delete_flag":
            entry = {"ID": target, "DELETE": "Y", "VALUE": draw(values)}
        elif kind == "delete_empty":
            entry = {"ID": target, "VALUE": ""}
        elif kind == "delete_bare":
            entry = {"ID": target}
        else:
            entry = {"ID": 10_000 + target, "VALUE": "x"}
        result.append(entry)
    return result


def model_apply(
    model: list[dict[str, Any]], entries: list[dict[str, Any]], counter: itertools.count[int]
) -> None:
    for entry in entries:
        if "ID" not in entry:
            text = str(entry.get("VALUE") or "").strip()
            if text:
                model.append(
                    {
                        "ID": next(counter),
                        "VALUE_TYPE": str(entry.get("VALUE_TYPE") or "WORK").upper(),
                        "VALUE": text,
                        "TYPE_ID": "PHONE",
                    }
                )
            continue
        matches = [m for m in model if m["ID"] == int(entry["ID"])]
        if not matches:
            continue
        current = matches[0]
        given = entry.get("VALUE")
        if entry.get("DELETE") == "Y" or given is None or not str(given).strip():
            model.remove(current)
        else:
            current["VALUE"] = str(given).strip()
            if entry.get("VALUE_TYPE"):
                current["VALUE_TYPE"] = str(entry["VALUE_TYPE"]).upper()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), rounds=st.integers(1, 4))
def test_merge_follows_the_documented_rules(data: st.DataObject, rounds: int) -> None:
    stored: list[dict[str, Any]] = []
    model: list[dict[str, Any]] = []
    ids, model_ids = itertools.count(1), itertools.count(1)
    for _ in range(rounds):
        entries = data.draw(edits(known=max([m["ID"] for m in model], default=1)))
        before = [dict(item) for item in stored]
        stored = merge("PHONE", stored, entries, lambda: next(ids))
        model_apply(model, entries, model_ids)
        assert stored == model
        assert len({item["ID"] for item in stored}) == len(stored)
        untouched = {int(e["ID"]) for e in entries if "ID" in e}
        kept = [item for item in before if item["ID"] not in untouched]
        assert [item for item in stored if item["ID"] in {k["ID"] for k in kept}] == kept


def test_merge_accepts_objects_keyed_by_index_and_does_not_touch_its_input() -> None:
    current = [{"ID": 5, "VALUE_TYPE": "WORK", "VALUE": "1", "TYPE_ID": "EMAIL"}]
    snapshot = [dict(c) for c in current]
    result = merge(
        "EMAIL", current, {"n0": {"VALUE": " a@b.io "}, "1": {"ID": "5", "VALUE": "c@d.io"}}, lambda: 6
    )
    assert result == [
        {"ID": 5, "VALUE_TYPE": "WORK", "VALUE": "c@d.io", "TYPE_ID": "EMAIL"},
        {"ID": 6, "VALUE_TYPE": "WORK", "VALUE": "a@b.io", "TYPE_ID": "EMAIL"},
    ]
    assert current == snapshot
    assert merge("IM", [], [{"VALUE": "nick"}], lambda: 1)[0]["VALUE_TYPE"] == "OTHER"
    assert merge("PHONE", current, "not a list", lambda: 9) == current


def test_fm_writes_and_views() -> None:
    ids = itertools.count(1)
    row: dict[str, Any] = {}
    row.update(
        merge_fm(
            row,
            {
                "n0": {"typeId": "PHONE", "valueType": "WORK", "value": "+1"},
                "n1": {"typeId": "email", "value": "x@y.z"},
                "n2": {"typeId": "FAX", "value": "9"},
            },
            lambda: next(ids),
        )
    )
    assert fm_view(row) == [
        {"id": 1, "valueType": "WORK", "value": "+1", "typeId": "PHONE"},
        {"id": 2, "valueType": "WORK", "value": "x@y.z", "typeId": "EMAIL"},
    ]
    changes = merge_fm(
        row, {"1": {"value": "+2", "valueType": "MOBILE"}, "2": {"value": ""}}, lambda: next(ids)
    )
    assert changes == {
        "PHONE": [{"ID": 1, "VALUE_TYPE": "MOBILE", "VALUE": "+2", "TYPE_ID": "PHONE"}],
        "EMAIL": [],
    }
    row.update(changes)
    flat = aliases(row)
    assert (flat["phone"], flat["phoneMobile"], flat["phoneWork"], flat["email"], flat["icq"]) == (
        "+2",
        "+2",
        "",
        "",
        None,
    )
    listed = merge_fm(
        row, [{"typeId": "WEB", "value": "https://x"}, {"id": 1, "value": "+3"}], lambda: next(ids)
    )
    assert listed["WEB"][0]["VALUE"] == "https://x" and listed["PHONE"][0]["VALUE"] == "+3"

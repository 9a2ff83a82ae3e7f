"""After a batch is written: store new records' references on their partners (``link_fields``).

A record created on one side gets its reference (an id, a Jira key) only when the create returns;
the partner that caused it is then updated to hold that reference, one write per side for the
whole batch. (Our own writes coming back on the next read need nothing here: they hold what the
snapshot holds, so the pass skips them without reading their partners.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from b24kit.sync.records import Change, Record, Side, WriteResult, other

from .decide import Writes
from .pairs import Pair
from .twoway import reference, slot

if TYPE_CHECKING:
    from .passes import RunState

Results = dict[tuple[Side, int], WriteResult]
SIDES: tuple[Side, Side] = ("source", "target")


def after_write(run: RunState, decided: list[tuple[Pair, Writes]], results: Results) -> None:
    """Link follow-ups; problems go into the pairs' notes (the next run puts the fields back)."""
    if run.plan_only or not decided:
        return
    _link_follow_ups(run, decided, results)


def created_id(writes: Writes, results: Results, side: Side, index: int) -> str | None:
    op = writes.target_op if side == "target" else writes.source_op
    result = results.get((side, index))
    return result.id if op == "create" and result is not None and result.id else None


def _link_follow_ups(run: RunState, decided: list[tuple[Pair, Writes]], results: Results) -> None:
    """Write each created record's reference into its partner."""
    wanted: dict[Side, list[tuple[int, str, str]]] = {"source": [], "target": []}  # holder -> (i, made, id)
    for index, (pair, writes) in enumerate(decided):
        if writes.problem:
            continue
        for made_side in SIDES:
            new_id = created_id(writes, results, made_side, index)
            holder = other(made_side)
            holder_id = pair.source_id if holder == "source" else pair.target_id
            if new_id is not None and holder_id is not None and slot(run.profile, holder) is not None:
                wanted[holder].append((index, new_id, holder_id))
    for holder in SIDES:
        items = wanted[holder]
        link = slot(run.profile, holder)
        if not items or link is None:
            continue
        made_io = run.ios[other(holder)]
        found: dict[str, Record] = {}
        if link.from_ != "$id":
            found = {r.id or "": r for r in made_io.fetch(made_io.entity, [new for _, new, _ in items])}
        changes = []
        for index, new_id, holder_id in items:
            record = found.get(new_id, Record(id=new_id, fields={}))
            value = reference(record, link)
            if value is None:
                decided[index][1].notes.append(f"{link.field} not stored: the new record has no {link.from_}")
                continue
            changes.append(Change(str(index), "update", holder_id, {link.field: value}))
        io = run.ios[holder]
        for result in io.write(io.entity, changes) if changes else []:
            if not result.ok:
                note = f"{link.field} not stored on the {holder}: {result.error}"
                decided[int(result.key)][1].notes.append(note)

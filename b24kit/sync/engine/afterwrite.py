"""After a batch is written: store new records' references on their partners, and recognise our own writes.

* **Link fields.** A record created on one side gets its reference (an id, a Jira key) only when the
  create returns; the partner that caused it is then updated to hold that reference
  (``link_fields``), one write per side for the whole batch.
* **Echoes.** Two-way incremental reads see every record we wrote as changed. The records written
  are read back once per batch; when they still hold exactly what was written, the snapshot takes
  their new modification time, so the next read skips them as already synced instead of fetching
  their partners again. A record that changed meanwhile keeps the old time and is synced normally.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from b24kit.sync.records import Change, Record, Side, WriteResult, other

from .decide import Writes
from .pairs import Pair
from .twoway import reference, refreshed, slot

if TYPE_CHECKING:
    from .passes import RunState

Results = dict[tuple[Side, int], WriteResult]
SIDES: tuple[Side, Side] = ("source", "target")


def after_write(run: RunState, decided: list[tuple[Pair, Writes]], results: Results) -> None:
    """Link follow-ups, then snapshot refresh; both change ``decided``'s writes in place."""
    if run.plan_only or not decided:
        return
    written = _link_follow_ups(run, decided, results)
    if run.profile.direction == "two_way":
        _refresh(run, decided, results, written)


def created_id(writes: Writes, results: Results, side: Side, index: int) -> str | None:
    op = writes.target_op if side == "target" else writes.source_op
    result = results.get((side, index))
    return result.id if op == "create" and result is not None and result.id else None


def _link_follow_ups(
    run: RunState, decided: list[tuple[Pair, Writes]], results: Results
) -> set[tuple[Side, int]]:
    """Write each created record's reference into its partner; returns the (side, index) pairs written."""
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
    done: set[tuple[Side, int]] = set()
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
            index = int(result.key)
            if result.ok:
                done.add((holder, index))
            else:
                decided[index][1].notes.append(f"{link.field} not stored on the {holder}: {result.error}")
    return done


def _refresh(
    run: RunState, decided: list[tuple[Pair, Writes]], results: Results, followed: set[tuple[Side, int]]
) -> None:
    compare = {cf.name: cf for cf in run.decider.fields}
    for side in SIDES:
        spec = run.profile.source if side == "source" else run.profile.target
        if spec.cursor is None:
            continue
        ids: dict[int, str] = {}
        for index, (pair, writes) in enumerate(decided):
            result = results.get((side, index))
            if writes.snapshot is None or writes.problem or (result is not None and not result.ok):
                continue
            op = writes.source_op if side == "source" else writes.target_op
            record_id = result.id if op == "create" and result is not None else None
            if op == "update" or (side, index) in followed:
                record_id = pair.source_id if side == "source" else pair.target_id
            if record_id:
                ids[index] = record_id
        if not ids:
            continue
        io = run.ios[side]
        fresh = {r.id: r for r in io.fetch(io.entity, list(ids.values()))}
        for index, record_id in ids.items():
            record = fresh.get(record_id)
            writes = decided[index][1]
            snap = writes.snapshot
            if record is None or record.modified is None or snap is None:
                continue
            values = snap.source if side == "source" else snap.target
            if not refreshed(values, record, None if side == "source" else compare):
                continue
            if side == "source":
                writes.snapshot = replace(snap, source_modified=record.modified)
            else:
                writes.snapshot = replace(snap, target_modified=record.modified)

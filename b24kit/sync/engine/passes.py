"""One pass over the records read on one side: batch by batch, pair, decide, write, commit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from b24kit.sync.records import Change, Record, Side, Since, WriteResult, other
from b24kit.sync.spec import Profile
from b24kit.sync.spec.conditions import all_hold, any_holds
from b24kit.sync.state import BatchCommit, Link, LogEntry, Pending, StateStore
from b24kit.sync.values import aware

from .afterwrite import after_write
from .decide import Decider, Writes, changed_paths
from .io import SideIO
from .pairs import Matcher, Pair
from .related import RelatedResolver
from .report import Action, Listener, Outcome, RunReport, log_entry


@dataclass
class RunState:
    """Everything the passes of one run share."""

    profile: Profile
    store: StateStore
    ios: dict[Side, SideIO]
    run_id: int
    plan_only: bool
    full: bool
    report: RunReport
    listener: Listener | None
    decider: Decider
    related: RelatedResolver
    matcher: Matcher
    processed: set[str] = field(default_factory=set)
    tombstones: list[Pair] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    """Source ids read, kept in memory only for plans (a run marks them in the store)."""
    closed: int = 0
    """Two-way: source records closed this run because their targets vanished (for the guard)."""

    def emit(self, outcome: Outcome) -> None:
        self.report.add(outcome)
        if self.listener is not None:
            self.listener(outcome)

    def profile_cursor(self, side: Side) -> Any:
        spec = self.profile.source if side == "source" else self.profile.target
        return spec.cursor

    def protected(self, target: Record | None) -> bool:
        if target is None:
            return False
        rules = self.profile.protected
        return (target.id is not None and target.id in rules.ids) or any_holds(rules.match_any, target.fields)


def batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass
class Pass:
    """Reads ``side`` and brings the other side (and, two-way, this side) up to date."""

    run: RunState
    side: Side
    since: Since | None
    ordered: bool
    newest: datetime | None = None
    blocked_at: datetime | None = None
    targeted: bool = False
    """Records given by id (a webhook's): the cursor stays where it is."""
    synced: set[str] = field(default_factory=set)
    """Ids this pass already synced: read again (our own write moved them), they need no partner."""

    @property
    def driver_io(self) -> SideIO:
        return self.run.ios[self.side]

    def execute(self, records: Iterable[Record]) -> None:
        """Records are paired a window at a time (as many as the partner side reads in one call, so
        lookups and fetches go out packed), then written and committed a batch at a time."""
        size = self.run.ios["target"].batch_size
        window = max(size, self.run.ios[other(self.side)].read_size)
        for part in batches(records, window):
            self._window(part, size)
        if not self.run.plan_only and not self.targeted and self.run.profile_cursor(self.side) is not None:
            moment = self.cursor_value() or (self.since.value if self.since else None)
            if moment is not None:
                self.run.store.commit(
                    self.run.profile.name, self.run.run_id, BatchCommit(cursors={self.side: moment})
                )

    def cursor_value(self) -> datetime | None:
        """The newest change read, but never past a record that failed (it is read again next run)."""
        if self.blocked_at is not None and (
            self.newest is None or aware(self.blocked_at) < aware(self.newest)
        ):
            return self.blocked_at
        return self.newest

    def _block(self, record: Record) -> None:
        moment = record.modified
        if moment is not None and (self.blocked_at is None or aware(moment) < aware(self.blocked_at)):
            self.blocked_at = moment

    def _advance(self, records: Sequence[Record]) -> None:
        for record in records:
            if record.modified is not None and (
                self.newest is None or aware(record.modified) > aware(self.newest)
            ):
                self.newest = record.modified

    def _window(self, records: Sequence[Record], size: int) -> None:
        run = self.run
        run.matcher.claimed.clear()
        spec = run.profile.source if self.side == "source" else run.profile.target
        kept = [r for r in records if all_hold(spec.where, r.fields)]
        pairs = run.matcher.identify(kept, self.side)
        run.matcher.attach_links(pairs)
        pairs = self._drop_processed(pairs)
        self._tombstones(pairs)
        quiet = self._quiet(pairs)
        if self.side == "source":  # a quiet pair did not look at its target: the target pass still may
            run.processed.difference_update(p.id for p in pairs if id(p) in quiet and p.id is not None)
        run.matcher.fetch_partners(pairs)
        run.matcher.match(pairs)
        self._admit_creates(pairs)
        run.matcher.claim_new(pairs)
        for pair in pairs:
            if pair.open and run.protected(pair.target):
                pair.skip = "protected record"
        sources = [p.source for p in pairs if p.open and p.source is not None]
        run.related.prepare(sources)
        decided = {id(p): (p, self._decide(p)) for p in pairs if p.open}
        pair_of = {id(p.driver): p for p in pairs}
        for part in _parts(records, pair_of, decided, size):  # the cursor never passes an uncommitted record
            self._advance(part)
            batch = [pair_of[id(r)] for r in part if id(r) in pair_of]
            todo = [decided[id(p)] for p in batch if id(p) in decided]
            results = self._write(todo)
            after_write(run, todo, results)
            self.synced.update(p.id for p, _ in todo if p.id is not None)
            self._vanished(batch)
            self._commit(batch, todo, results, quiet)

    def _vanished(self, pairs: list[Pair]) -> None:
        """Two-way pairs whose partner no longer exists: the delete phase, or the source's own rule."""
        from .deletes import close_sources

        for pair in pairs:
            if pair.vanished == "tombstone" and pair.link is not None:
                self.run.tombstones.append(pair)
        closing = [p for p in pairs if p.vanished in ("deactivate", "delete")]
        if closing:
            close_sources(self.run, closing)

    def _drop_processed(self, pairs: list[Pair]) -> list[Pair]:
        """Two-way: a record already synced from the other side in this run is not synced again."""
        if self.side == "source":
            self.run.processed.update(p.id for p in pairs if p.id is not None)
            return pairs
        return [p for p in pairs if p.link is None or p.link.source_id not in self.run.processed]

    def _tombstones(self, pairs: list[Pair]) -> None:
        if self.side != "source":
            return
        rules = self.run.profile.deletes
        for pair in pairs:
            if not pair.open:
                continue
            gone = pair.driver.deleted or (
                rules.inactive_when and all_hold(rules.inactive_when, pair.driver.fields)
            )
            if gone:
                pair.skip = ""  # handled by the delete phase, not reported here
                if pair.link is not None and pair.link.state == "active":
                    self.run.tombstones.append(pair)

    def _quiet(self, pairs: list[Pair]) -> set[int]:
        """Linked records that need no partner fetch: read again (the lag window, our own write
        coming back) but holding what the last sync left; or one-way with drift: keep.

        Content, not the modification time, decides: a time in whole seconds cannot tell our
        write from a person's edit in the same second.
        """
        run = self.run
        quiet: set[int] = set()
        for pair in pairs:
            if not pair.open or pair.link is None or pair.snapshot is None or pair.link.state != "active":
                continue
            if (
                ((not run.full and self.since is not None) or pair.id in self.synced)
                and run.decider.unchanged(self.side, pair.driver, pair.snapshot, pair.partner_id)
            ) or (
                self.side == "source"
                and run.profile.direction == "one_way"
                and run.profile.drift == "keep"
                and not changed_paths(run.decider.source_paths, pair.driver, pair.snapshot)
            ):
                quiet.add(id(pair))
        for pair in pairs:
            if id(pair) in quiet:
                pair.skip = ""
        return quiet

    def _admit_creates(self, pairs: list[Pair]) -> None:
        profile = self.run.profile
        for pair in pairs:
            if not pair.open or pair.partner is not None:
                continue
            if profile.mode == "update":
                pair.skip = "no matching record (mode: update never creates)"
            elif pair.driver.problem:
                pair.fail = pair.driver.problem
            elif self.side == "target" and profile.direction != "two_way":
                pair.skip = "one-way profiles do not create in the source"
            elif pair.side == "target" and not any(cf.to_source for cf in self.run.decider.fields):
                pair.skip = "no field flows to the source"

    def _decide(self, pair: Pair) -> Writes:
        if pair.driver.problem:
            return Writes(problem=pair.driver.problem)
        reactivate = pair.link is not None and pair.link.state == "deactivated"
        return self.run.decider.decide(pair.source, pair.target, pair.snapshot, reactivate=reactivate)

    # writing ----------------------------------------------------------------------------------

    def _write(self, decided: list[tuple[Pair, Writes]]) -> dict[tuple[Side, int], WriteResult]:
        run = self.run
        results: dict[tuple[Side, int], WriteResult] = {}
        for side in ("target", "source"):
            changes = []
            for index, (pair, writes) in enumerate(decided):
                op = writes.target_op if side == "target" else writes.source_op
                if op is None or writes.problem:
                    continue
                fields = writes.target_fields if side == "target" else writes.source_fields
                record_id = pair.target_id if side == "target" else pair.source_id
                changes.append(Change(str(index), op, None if op == "create" else record_id, fields))  # type: ignore[arg-type]
            if not changes or run.plan_only:
                continue
            run.store.note_pending(
                run.profile.name,
                run.run_id,
                [Pending(decided[int(c.key)][0].id or "", side, c.op, c.id) for c in changes],
            )
            io = run.ios[side]
            for result in io.write(io.entity, changes):
                results[(side, int(result.key))] = result
        return results

    def _commit(
        self,
        pairs: list[Pair],
        decided: list[tuple[Pair, Writes]],
        results: dict[tuple[Side, int], WriteResult],
        quiet: set[int],
    ) -> None:
        run = self.run
        batch = BatchCommit()
        index_of = {id(p): i for i, (p, _) in enumerate(decided)}
        for pair in pairs:
            if self.side == "source" and pair.id is not None and run.plan_only:
                run.seen.add(pair.link.source_id if pair.link else pair.id)
            if pair.fail:
                self._block(pair.driver)
            if self.side == "source" and pair.link is not None and pair.id is not None:
                batch.seen.append(pair.link.source_id)
            if pair.vanished == "gone" and pair.link is not None and not run.plan_only:
                batch.links.append(Link(pair.link.source_id, pair.link.target_id, "gone"))
            if pair.unlink and pair.link is not None:
                batch.unlink.append(pair.link.source_id)
            elif pair.unlink and self.side == "source" and pair.id is not None:
                batch.unlink.append(pair.id)
            if id(pair) in quiet:
                run.emit(Outcome("unchanged", pair.driver.label(), pair.source_id, pair.target_id))
            elif not pair.open:
                if pair.skip != "":
                    self._report_closed(pair, batch)
            else:
                writes = decided[index_of[id(pair)]][1]
                self._settle(pair, writes, index_of[id(pair)], results, batch)
        for made in run.related.created[:]:
            batch.log.append(
                LogEntry(
                    "create" if made.error is None else "fail",
                    made.ref,
                    None,
                    made.id,
                    made.side,
                    [],
                    made.error or f"created {made.entity}",
                )
            )
            run.report.related[made.entity] += 0 if made.error else 1
        run.related.created.clear()
        moment = self.cursor_value()
        if self.ordered and self.since is not None and moment is not None:
            batch.cursors[self.side] = moment
        if not run.plan_only:
            run.store.commit(run.profile.name, run.run_id, batch)

    def _report_closed(self, pair: Pair, batch: BatchCommit) -> None:
        action: Action = "fail" if pair.fail else "skip"
        reason = pair.fail or pair.skip or ""
        if pair.id is None and self.side == "source" and not pair.driver.problem:
            problem = self.run.decider.decide(pair.driver, None, None).problem
            reason = f"{problem}; so {reason}" if problem else reason
        outcome = Outcome(action, pair.driver.label(), pair.source_id, pair.target_id, reason=reason)
        self.run.emit(outcome)
        batch.log.append(log_entry(outcome))

    def _settle(
        self,
        pair: Pair,
        writes: Writes,
        index: int,
        results: dict[tuple[Side, int], WriteResult],
        batch: BatchCommit,
    ) -> None:
        run = self.run
        if writes.problem:
            self._block(pair.driver)
            outcome = Outcome(
                "fail", pair.driver.label(), pair.source_id, pair.target_id, reason=writes.problem
            )
            run.emit(outcome)
            batch.log.append(log_entry(outcome))
            return
        errors = [r.error for side in ("target", "source") if (r := results.get((side, index))) and r.error]
        source_id = pair.source_id
        target_id = pair.target_id
        # a create that half-failed (made, then refused a status) still made the record: link it
        if writes.source_op == "create" and (r := results.get(("source", index))) and r.id:
            source_id = r.id
        if writes.target_op == "create" and (r := results.get(("target", index))) and r.id:
            target_id = r.id
        if run.plan_only:
            source_id = source_id or "(new)"
            target_id = target_id or "(new)"
        action: Action = (
            "create"
            if "create" in (writes.target_op, writes.source_op)
            else ("update" if writes.any else "unchanged")
        )
        side: Side = "source" if writes.source_op and not writes.target_op else "target"
        conflicts = tuple(writes.conflicts)
        if errors:
            self._block(pair.driver)
            outcome = Outcome(
                "fail",
                pair.driver.label(),
                source_id,
                target_id,
                side,
                tuple(writes.changes),
                "; ".join([*(e for e in errors if e), *conflicts]),
                conflicts,
            )
        else:
            reason = "; ".join(r for r in (pair.how, *conflicts, *writes.notes) if r)
            changes = tuple(writes.changes)
            outcome = Outcome(
                action, pair.driver.label(), source_id, target_id, side, changes, reason, conflicts
            )
        run.emit(outcome)
        if run.plan_only or source_id is None or target_id is None:
            if errors and not run.plan_only:  # a create that failed: its record is still in the log
                batch.log.append(log_entry(outcome))
            return
        new_link = pair.link is None or pair.link.state != "active" or pair.link.target_id != target_id
        if new_link:
            batch.links.append(
                Link(source_id, target_id, "active", run.run_id if self.side == "source" else None)
            )
        if (
            not errors
            and writes.snapshot is not None
            and (pair.snapshot is None or writes.any or pair.snapshot.digest() != writes.snapshot.digest())
        ):
            batch.snapshots[source_id] = writes.snapshot
        if action != "unchanged" or new_link or errors:
            batch.log.append(log_entry(outcome))


def _parts(
    records: Sequence[Record], pair_of: dict[int, Pair], decided: dict[int, tuple[Pair, Writes]], size: int
) -> Iterator[list[Record]]:
    """Consecutive records with at most ``size`` writes to each side: one write call and one commit each."""
    part: list[Record] = []
    counts = {"target": 0, "source": 0}
    for record in records:
        pair = pair_of.get(id(record))
        writes = decided[id(pair)][1] if pair is not None and id(pair) in decided else None
        adds = {"target": 0, "source": 0}
        if writes is not None and not writes.problem:
            adds = {"target": int(writes.target_op is not None), "source": int(writes.source_op is not None)}
        if part and any(counts[side] + adds[side] > size for side in counts):
            yield part
            part, counts = [], {"target": 0, "source": 0}
        part.append(record)
        counts = {side: counts[side] + adds[side] for side in counts}
    if part:
        yield part


def side_of(profile: Profile, side: Side) -> Any:
    return profile.source if side == "source" else profile.target


__all__ = ["Pass", "RunState", "batches", "other", "side_of"]

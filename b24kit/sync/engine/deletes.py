"""The delete phase: records gone from (or inactive in) the source, behind a guard and protection."""

from __future__ import annotations

from b24kit.sync.records import Change
from b24kit.sync.state import BatchCommit, Link, LogEntry

from .io import chunks
from .pairs import Pair
from .passes import RunState
from .report import Action, FieldChange, Outcome, log_entry


def candidates(run: RunState, complete: bool) -> list[Link]:
    """Active links whose source record was deleted, is inactive, or (after a full read) was not seen."""
    found: dict[str, Link] = {}
    for pair in run.tombstones:
        if pair.link is not None:
            found[pair.link.source_id] = pair.link
    if complete:
        for link in run.store.unseen_links(run.profile.name, run.run_id):
            if not run.plan_only or link.source_id not in run.seen:
                found.setdefault(link.source_id, link)
    return list(found.values())


def guard_message(run: RunState, count: int) -> str | None:
    """Why the guard stops this delete phase, or ``None`` when it may go ahead."""
    guard = run.profile.deletes.guard
    verb = run.profile.deletes.mode
    total = run.store.count_links(run.profile.name)
    if guard.max_count is not None and count > guard.max_count:
        return (
            f"the run would {verb} {count} records, more than deletes.guard.max_count "
            f"({guard.max_count}); nothing was {verb}d"
        )
    if guard.max_share is not None and total and count / total > guard.max_share:
        return (
            f"the run would {verb} {count} of {total} linked records ({count / total:.0%}), more than "
            f"deletes.guard.max_share ({guard.max_share:.0%}); nothing was {verb}d"
        )
    return None


def sweep(run: RunState, *, complete: bool, force: bool = False) -> None:
    """Deactivate or delete the targets of vanished source records (plans only list them)."""
    rules = run.profile.deletes
    if rules.mode == "ignore":
        return
    links = candidates(run, complete)
    if not links:
        return
    message = None if force else guard_message(run, len(links))
    if message is not None:
        run.report.guard = message
        return
    io = run.ios["target"]
    for part in chunks(links, io.batch_size):
        _batch(run, list(part))


def _batch(run: RunState, links: list[Link]) -> None:
    rules = run.profile.deletes
    io = run.ios["target"]
    present = {r.id: r for r in io.fetch(io.entity, [link.target_id for link in links])}
    action: Action = "deactivate" if rules.mode == "deactivate" else "delete"
    batch = BatchCommit()
    changes: list[Change] = []
    for index, link in enumerate(links):
        record = present.get(link.target_id)
        if record is None:
            batch.unlink.append(link.source_id)
            _emit(
                run,
                batch,
                Outcome(
                    "skip",
                    f"{io.entity} {link.target_id}",
                    link.source_id,
                    link.target_id,
                    reason="already gone from the target; link dropped",
                ),
            )
        elif run.protected(record):
            _emit(
                run,
                batch,
                Outcome(
                    "skip",
                    record.label(),
                    link.source_id,
                    link.target_id,
                    reason=f"protected record: not {action}d",
                ),
            )
        elif action == "deactivate":
            changes.append(Change(str(index), "update", link.target_id, dict(rules.deactivate)))
        else:
            changes.append(Change(str(index), "delete", link.target_id))
    results = {} if run.plan_only or not changes else {r.key: r for r in io.write(io.entity, changes)}
    for change in changes:
        link = links[int(change.key)]
        record = present[link.target_id]
        diffs = tuple(FieldChange("target", k, record.fields.get(k), v) for k, v in change.fields.items())
        result = results.get(change.key)
        if result is not None and not result.ok:
            _emit(
                run,
                batch,
                Outcome(
                    "fail",
                    record.label(),
                    link.source_id,
                    link.target_id,
                    changes=diffs,
                    reason=result.error or "",
                ),
            )
            continue
        _emit(
            run,
            batch,
            Outcome(
                action,
                record.label(),
                link.source_id,
                link.target_id,
                changes=diffs,
                reason="gone from the source",
            ),
        )
        if action == "delete":
            batch.unlink.append(link.source_id)
        else:
            batch.links.append(Link(link.source_id, link.target_id, "deactivated"))
    if not run.plan_only:
        run.store.commit(run.profile.name, run.run_id, batch)


def _emit(run: RunState, batch: BatchCommit, outcome: Outcome) -> None:
    run.emit(outcome)
    batch.log.append(
        LogEntry(
            outcome.action,
            outcome.ref,
            outcome.source_id,
            outcome.target_id,
            "target",
            [
                {"side": c.side, "field": c.field, "before": c.before, "after": c.after}
                for c in outcome.changes
            ],
            outcome.reason,
        )
    )


def close_sources(run: RunState, pairs: list[Pair]) -> None:
    """Two-way: targets that vanished take their source records with them (deactivated or deleted).

    The guard's ``max_count`` caps how many source records one run closes this way; past it the
    pairs are left as they are (and retried next run) and the run reports why.
    """
    rules = run.profile.deletes
    guard = rules.guard.max_count
    if guard is not None and run.closed + len(pairs) > guard:
        run.report.guard = (
            f"the run would close more than deletes.guard.max_count ({guard}) source records whose "
            "targets vanished; they were left as they are"
        )
        return
    run.closed += len(pairs)
    io = run.ios["source"]
    changes: list[Change] = []
    for index, pair in enumerate(pairs):
        assert pair.link is not None
        if pair.vanished == "delete":
            changes.append(Change(str(index), "delete", pair.link.source_id))
        else:
            changes.append(Change(str(index), "update", pair.link.source_id, dict(rules.deactivate_source)))
    results = {} if run.plan_only else {r.key: r for r in io.write(io.entity, changes)}
    batch = BatchCommit()
    for change in changes:
        pair = pairs[int(change.key)]
        link = pair.link
        assert link is not None
        before = pair.driver.fields
        diffs = tuple(FieldChange("source", k, before.get(k), v) for k, v in change.fields.items())
        action: Action = "delete" if change.op == "delete" else "deactivate"
        result = results.get(change.key)
        reason = f"its target {link.target_id} no longer exists"
        if result is not None and not result.ok:
            action, reason = "fail", result.error or "the source refused the change"
        elif action == "delete":
            batch.unlink.append(link.source_id)
        else:
            batch.links.append(Link(link.source_id, link.target_id, "gone"))
        outcome = Outcome(
            action, pair.driver.label(), link.source_id, link.target_id, "source", diffs, reason
        )
        run.emit(outcome)
        batch.log.append(log_entry(outcome))
    if not run.plan_only:
        run.store.commit(run.profile.name, run.run_id, batch)

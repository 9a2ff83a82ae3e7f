"""Run a profile: read -> match -> diff -> plan -> write in batches -> checkpoint; or only plan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from b24kit.sync.connector import Connector
from b24kit.sync.mapping import compile_fields
from b24kit.sync.records import Record, Side, Since
from b24kit.sync.spec import Profile
from b24kit.sync.state import StateStore
from b24kit.sync.values import get_path, parse_datetime

from . import deletes
from .decide import Decider
from .io import SideIO
from .pairs import Matcher
from .passes import Pass, RunState
from .related import RelatedResolver
from .report import Listener, RunReport


def run_sync(
    profile: Profile,
    source: Connector,
    target: Connector,
    store: StateStore,
    *,
    plan_only: bool = False,
    full: bool = False,
    force_deletes: bool = False,
    listener: Listener | None = None,
    keep_outcomes: bool = False,
    now: datetime | None = None,
    only: Mapping[Side, Sequence[str]] | None = None,
) -> RunReport:
    """Sync ``profile`` from ``source`` to ``target`` (and back, two-way), or plan it.

    Args:
        plan_only: compute every change and report it, but write nothing (not even the state store).
        full: ignore the cursors and read everything (a reconciliation run).
        force_deletes: apply deletes even when the guard would stop them.
        listener: called with each record's :class:`Outcome` as it is decided (progress, reports).
        keep_outcomes: also keep every outcome in the returned report (tests, small plans).
        now: the moment used for ``backfill: none`` (default: the current time).
        only: sync just these records, by id per side (a webhook's records); cursors stay, and
            only the records given (or found deleted) reach the delete phase.

    Returns:
        The run's report; ``report.failed`` counts records that failed, ``report.guard`` says
        why the delete phase was stopped.
    """
    report = RunReport(profile.name, plan_only, keep_outcomes=keep_outcomes)
    run_id = 0
    if not plan_only:
        start = store.start_run(profile.name)
        run_id = start.run_id
        report.warnings.extend(_resume_warnings(profile, start.interrupted, len(start.pending)))
    report.run_id = run_id or None
    size = min(profile.batch_size or 50, source.batch_size, target.batch_size)
    ios: dict[Side, SideIO] = {
        "source": SideIO("source", source, profile.source.entity, min(size, source.batch_size)),
        "target": SideIO("target", target, profile.target.entity, size),
    }
    fields = compile_fields(profile)
    related = RelatedResolver(fields, ios, store, plan_only)
    state = RunState(
        profile,
        store,
        ios,
        run_id,
        plan_only,
        full,
        report,
        listener,
        Decider(profile, fields, ios, related.resolve, related.link_back),
        related,
        Matcher(profile, store, ios, run_id),
    )
    try:
        if only is not None:
            _targeted(state, only, force_deletes)
        else:
            _passes(state, now or datetime.now(UTC), force_deletes)
    except Exception as exc:
        if not plan_only:
            store.finish_run(run_id, "error", report.summary(), f"{type(exc).__name__}: {exc}")
        raise
    report.calls = {side: dict(io.calls) for side, io in ios.items()}
    if not plan_only:
        status = "guarded" if report.guard else ("failed" if report.failed else "ok")
        store.finish_run(run_id, status, report.summary(), report.guard or "")
    return report


def _passes(state: RunState, now: datetime, force_deletes: bool) -> None:
    profile = state.profile
    since = _since(state, "source", now)
    source_records = _read(state, "source", since)
    Pass(state, "source", since, "ordered" in state.ios["source"].connector.capabilities).execute(
        source_records
    )
    deletes.sweep(state, complete=since is None, force=force_deletes)
    state.tombstones.clear()
    if profile.direction == "two_way":
        since_t = _since(state, "target", now)
        target_records = _read(state, "target", since_t)
        Pass(state, "target", since_t, "ordered" in state.ios["target"].connector.capabilities).execute(
            target_records
        )
        if state.tombstones:  # targets whose source vanished, seen from the target side
            deletes.sweep(state, complete=False, force=force_deletes)


def _targeted(state: RunState, only: Mapping[Side, Sequence[str]], force_deletes: bool) -> None:
    """Sync the given records: a source id that no longer exists is a tombstone; a missing target's
    source record is synced instead, so ``deletes.target_missing`` applies to it."""
    source_ids = list(dict.fromkeys(str(i) for i in only.get("source", ())))
    target_ids = list(dict.fromkeys(str(i) for i in only.get("target", ())))
    targets: list[Record] = []
    if target_ids:
        io = state.ios["target"]
        targets = _stamped(state, "target", io.fetch(io.entity, target_ids))
        found = {r.id for r in targets}
        missing = [i for i in target_ids if i not in found]
        if missing:
            links = state.store.links_by_target(state.profile.name, missing)
            source_ids.extend(link.source_id for link in links.values() if link.source_id not in source_ids)
    if source_ids:
        io = state.ios["source"]
        records = _stamped(state, "source", io.fetch(io.entity, source_ids))
        found = {r.id for r in records}
        records += [Record(id=i, fields={}, deleted=True, ref=i) for i in source_ids if i not in found]
        Pass(state, "source", None, False, targeted=True).execute(records)
    if targets and state.profile.direction == "two_way":
        Pass(state, "target", None, False, targeted=True).execute(targets)
    deletes.sweep(state, complete=False, force=force_deletes)


def _stamped(state: RunState, side: Side, records: Iterable[Record]) -> list[Record]:
    """Records with ``modified`` taken from the cursor field when the connector left it empty."""
    spec = (state.profile.source if side == "source" else state.profile.target).cursor
    out = []
    for record in records:
        if record.modified is None and spec is not None:
            moment = parse_datetime(get_path(record.fields, spec.field))
            if moment is not None:
                record = replace(record, modified=moment)
        out.append(record)
    return out


def _since(state: RunState, side: Side, now: datetime) -> Since | None:
    spec = (state.profile.source if side == "source" else state.profile.target).cursor
    if spec is None or state.full:
        return None
    stored = state.store.cursor(state.profile.name, side)
    if stored is not None:
        return Since(spec.field, stored - timedelta(seconds=spec.lag_seconds))
    if spec.backfill == "all":
        return None
    if spec.backfill == "none":
        return Since(spec.field, now)
    assert isinstance(spec.backfill, datetime)
    return Since(spec.field, spec.backfill)


def _read(state: RunState, side: Side, since: Since | None) -> Iterator[Record]:
    io = state.ios[side]
    io.count("read")
    records: Iterable[Record] = io.connector.read(io.entity, since=since)
    for record in records:
        yield _stamped(state, side, [record])[0]


def _resume_warnings(profile: Profile, interrupted: list[int], pending: int) -> list[str]:
    if not interrupted and not pending:
        return []
    runs = ", ".join(str(r) for r in interrupted) or "an earlier run"
    text = f"run {runs} was interrupted; this run resumes from the last committed batch"
    if pending and not profile.match.keys:
        text += (
            f"; {pending} writes of its last batch may have reached the target and cannot be "
            "recognised without match keys: check for duplicates"
        )
    elif pending:
        text += f"; {pending} writes of its last batch are recognised again by the match keys"
    return [text]

"""Per-field decisions for one pair: what to write to each side, compared with the last snapshot."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from b24kit.sync.mapping import CompiledField, FieldProblem, forward, raw_value, reverse
from b24kit.sync.records import Record, Side
from b24kit.sync.spec import RECORD_ID, Profile
from b24kit.sync.state import Snapshot
from b24kit.sync.values import MISSING, aware, get_path, jsonable, same

from .io import FieldContext, SideIO
from .report import FieldChange
from .twoway import Extras, slot


@dataclass
class Writes:
    """What one pair needs: an operation and fields per side, the field changes, the next snapshot."""

    target_op: str | None = None
    target_fields: dict[str, Any] = field(default_factory=dict)
    source_op: str | None = None
    source_fields: dict[str, Any] = field(default_factory=dict)
    changes: list[FieldChange] = field(default_factory=list)
    snapshot: Snapshot | None = None
    problem: str | None = None
    conflicts: list[str] = field(default_factory=list)
    """Fields both sides changed since the last sync, and which side the rule let win."""
    notes: list[str] = field(default_factory=list)
    """Problems after the main write (a link field that could not be stored) that do not fail the pair."""

    @property
    def any(self) -> bool:
        return self.target_op is not None or self.source_op is not None


@dataclass
class Decider:
    """Turns a pair (source, target, snapshot) into :class:`Writes` following the profile's rules."""

    profile: Profile
    fields: list[CompiledField]
    ios: dict[Side, SideIO]
    resolve: Callable[[CompiledField, Record], Any]
    resolve_back: Callable[[CompiledField, Any], Any]

    def __post_init__(self) -> None:
        self.extras = Extras(self.profile, self.ios)

    @property
    def source_paths(self) -> list[str]:
        """Source fields the snapshot keeps: the mapped ones, and what a target link field stores."""
        paths = dict.fromkeys(p for cf in self.fields for p in cf.paths if p != RECORD_ID)
        link = self.profile.link_fields.target
        if link is not None and link.from_ != RECORD_ID:
            paths[link.from_] = None
        return list(paths)

    @property
    def target_names(self) -> list[str]:
        """Target fields the snapshot keeps: the mapped ones, and what a source link field stores."""
        names = dict.fromkeys(cf.name for cf in self.fields)
        link = self.profile.link_fields.source
        if link is not None and link.from_ != RECORD_ID:
            names[link.from_] = None
        return list(names)

    def decide(
        self, source: Record | None, target: Record | None, snap: Snapshot | None, *, reactivate: bool = False
    ) -> Writes:
        writes = Writes()
        try:
            if target is None:
                assert source is not None
                self._create_target(source, writes)
            elif source is None:
                self._create_source(target, writes)
            else:
                self._update(source, target, snap, writes, reactivate)
            if self.profile.direction == "two_way" or self.profile.link_fields.target is not None:
                self.extras.links(source, target, writes)
            self.extras.computed(source, target, writes)
        except FieldProblem as exc:
            return Writes(problem=str(exc))
        writes.snapshot = self._snapshot(source, target, writes)
        return writes

    def _forward(self, cf: CompiledField, source: Record) -> Any:
        return forward(cf, source, FieldContext(self.ios["target"], cf.name), self.resolve)

    def _reverse(self, cf: CompiledField, target: Record) -> Any:
        # the value being reversed is the target's (a user id, an enumeration item): its side reads it
        return reverse(cf, target, FieldContext(self.ios["target"], cf.name), self.resolve_back)

    def _create_target(self, source: Record, writes: Writes) -> None:
        problems = []
        for cf in self.fields:
            if not cf.to_target:
                continue
            try:
                value = self._forward(cf, source)
            except FieldProblem as exc:
                problems.append(str(exc))
                continue
            if value is not MISSING:
                writes.target_fields[cf.name] = value
                writes.changes.append(FieldChange("target", cf.name, None, value))
        if problems:
            raise FieldProblem("; ".join(problems))
        writes.target_op = "create"

    def _create_source(self, target: Record, writes: Writes) -> None:
        for cf in self.fields:
            if cf.to_source and cf.source_path is not None:
                value = self._reverse(cf, target)
                if value is not MISSING:
                    writes.source_fields[cf.source_path] = value
                    writes.changes.append(FieldChange("source", cf.source_path, None, value))
        writes.source_op = "create"

    def _update(
        self, source: Record, target: Record, snap: Snapshot | None, writes: Writes, reactivate: bool
    ) -> None:
        problems = []
        for cf in self.fields:
            try:
                self._field(cf, source, target, snap, writes)
            except FieldProblem as exc:
                problems.append(str(exc))
        if problems:
            raise FieldProblem("; ".join(problems))
        if reactivate:
            for name, value in self.profile.deletes.reactivate.items():
                if name not in writes.target_fields and not same(value, get_path(target.fields, name)):
                    writes.target_fields[name] = value
                    writes.changes.append(FieldChange("target", name, get_path(target.fields, name), value))
        if writes.target_fields:
            writes.target_op = "update"
        if writes.source_fields:
            writes.source_op = "update"

    def _field(
        self, cf: CompiledField, source: Record, target: Record, snap: Snapshot | None, writes: Writes
    ) -> None:
        if not cf.spec.update or self.profile.mode == "create":
            return
        current = get_path(target.fields, cf.name)
        desired = self._forward(cf, source) if cf.to_target else MISSING
        if desired is not MISSING and cf.same(desired, current):
            return
        if desired is MISSING and not cf.to_source:
            return
        source_changed = (
            snap is None
            or any(
                not same(jsonable(raw_value(source, p)), snap.source.get(p))
                for p in cf.paths
                if p != RECORD_ID
            )
            or (snap is not None and any(p not in snap.source for p in cf.paths if p != RECORD_ID))
        )
        target_changed = (
            snap is None or cf.name not in snap.target or not cf.same(snap.target[cf.name], current)
        )
        winner = self._winner(cf, source, target, source_changed, target_changed)
        if (
            snap is not None
            and source_changed
            and target_changed
            and winner is not None
            and self.profile.direction == "two_way"
            and cf.to_target
            and cf.to_source
        ):
            writes.conflicts.append(self._conflict_note(cf, winner))
        if winner == "source" and desired is not MISSING:
            patch = cf.patch(desired, current)
            writes.target_fields[cf.name] = patch
            writes.changes.append(FieldChange("target", cf.name, _plain(current), desired))
        elif winner == "target" and cf.to_source and cf.source_path is not None:
            value = self._reverse(cf, target)
            before = raw_value(source, cf.source_path)
            if value is not MISSING and not same(value, before):
                writes.source_fields[cf.source_path] = value
                writes.changes.append(FieldChange("source", cf.source_path, _plain(before), value))

    def _winner(
        self, cf: CompiledField, source: Record, target: Record, source_changed: bool, target_changed: bool
    ) -> Side | None:
        """Which side's value stands; ``None``: neither changed since the last sync (never re-send)."""
        if self.profile.direction == "one_way":
            if self.profile.drift == "keep":
                return "source" if source_changed else None
            return "source" if source_changed or target_changed else None
        if not cf.to_target:
            return "target" if source_changed or target_changed else None
        if not cf.to_source:
            return "source" if source_changed or target_changed else None
        if source_changed and not target_changed:
            return "source"
        if target_changed and not source_changed:
            return "target"
        if not source_changed:
            return None
        return self._conflict(cf, source.modified, target.modified)

    def _conflict(
        self, cf: CompiledField, source_modified: datetime | None, target_modified: datetime | None
    ) -> Side:
        rule = cf.spec.owner or self.profile.conflict
        if rule != "newest":
            return "source" if rule == "source" else "target"
        if source_modified is None or target_modified is None:
            return "source"
        return "target" if aware(target_modified) > aware(source_modified) else "source"

    def unchanged(self, side: Side, record: Record, snap: Snapshot, partner_id: str | None) -> bool:
        """Whether ``record`` holds what the last sync left on its side (absent counts as empty), its
        link field still names its partner, and its computed fields need no write: then there is
        nothing to send from it."""
        link = slot(self.profile, side)
        if link is not None:
            kept = snap.target if side == "source" else snap.source
            expected = partner_id if link.from_ == RECORD_ID else kept.get(link.from_)
            current = get_path(record.fields, link.field)
            if expected is not None and not same(None if current is MISSING else current, expected):
                return False
        if side == "source":
            for path in self.source_paths:
                if not same(jsonable(raw_value(record, path)), snap.source.get(path)):
                    return False
        else:
            for cf in self.fields:
                if not cf.same(snap.target.get(cf.name), get_path(record.fields, cf.name)):
                    return False
        probe = Writes(source_op="update", target_op="update")
        try:
            self.extras.computed(
                record if side == "source" else None, record if side == "target" else None, probe
            )
        except FieldProblem:
            return False
        return not probe.source_fields and not probe.target_fields

    def _conflict_note(self, cf: CompiledField, winner: Side) -> str:
        if cf.spec.owner is not None:
            rule = f"its owner ({winner})"
        elif self.profile.conflict == "newest":
            rule = f"the newest change ({winner})"
        else:
            rule = f"conflict: {winner}"
        return f"conflict on {cf.name}: both sides changed it since the last sync; {rule} wins"

    def _snapshot(self, source: Record | None, target: Record | None, writes: Writes) -> Snapshot:
        src_fields = dict(source.fields) if source is not None else {}
        src_fields.update(writes.source_fields)
        tgt_fields = dict(target.fields) if target is not None else {}
        for change in writes.changes:
            if change.side == "target":
                tgt_fields[change.field] = change.after
        src_view = Record(id=source.id if source else None, fields=src_fields)
        snap_source = {
            p: jsonable(v) for p in self.source_paths if (v := raw_value(src_view, p)) is not MISSING
        }
        snap_target = {
            name: jsonable(get_path(tgt_fields, name))
            for name in self.target_names
            if get_path(tgt_fields, name) is not MISSING
        }
        return Snapshot(
            snap_source, snap_target, source.modified if source else None, target.modified if target else None
        )


def _plain(value: Any) -> Any:
    return None if value is MISSING else value


def changed_paths(paths: Sequence[str], source: Record, snap: Snapshot) -> bool:
    """Whether any source value the profile reads differs from the snapshot."""
    return any(
        p not in snap.source or not same(jsonable(raw_value(source, p)), snap.source[p]) for p in paths
    )

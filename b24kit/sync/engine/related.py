"""Lookup fields (a company by INN, then name; created when asked) and link remapping (``links_of``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from b24kit.sync import normalise
from b24kit.sync.mapping import CompiledField, FieldProblem, compile_rules, forward, raw_value
from b24kit.sync.records import Change, Record, Side
from b24kit.sync.spec import LinkField, LookupField, LookupKey, LookupSpec
from b24kit.sync.state import StateStore
from b24kit.sync.values import MISSING, is_empty

from .io import FieldContext, SideIO


@dataclass
class Created:
    """A related record the run created (or, in a plan, would create)."""

    entity: str
    side: Side
    id: str | None
    ref: str
    fields: dict[str, Any]
    error: str | None = None


def _key_value(record: Record, path: str, how: str) -> str | None:
    value = raw_value(record, path)
    if is_empty(value):
        return None
    keys = normalise.keys_of(value, how)
    return keys[0] if keys else None


def _best(records: Sequence[Record]) -> Record:
    return min(records, key=lambda r: _order(r.id or ""))


def _order(record_id: str) -> tuple[int, int, str]:
    return (0, int(record_id), "") if record_id.isdecimal() else (1, 0, record_id)


@dataclass
class RelatedResolver:
    """Resolves every lookup and link field of a batch up front, so each needs one call per key."""

    fields: list[CompiledField]
    ios: Mapping[Side, SideIO]
    store: StateStore
    plan_only: bool
    created: list[Created] = field(default_factory=list)
    _values: dict[tuple[str, int], Any] = field(default_factory=dict)
    _links: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def prepare(self, records: Sequence[Record]) -> None:
        self._values.clear()
        for cf in self.fields:
            if isinstance(cf.spec, LookupField):
                self._prepare_lookup(cf, cf.spec.lookup, records)
            elif isinstance(cf.spec, LinkField):
                self._prepare_links(cf.spec, records)

    def resolve(self, cf: CompiledField, record: Record) -> Any:
        if isinstance(cf.spec, LinkField):
            return self._link(cf, cf.spec, raw_value(record, cf.spec.from_))
        value = self._values.get((cf.name, id(record)), MISSING)
        if isinstance(value, FieldProblem):  # a fresh one: a raised one would keep this batch alive
            raise FieldProblem(str(value))
        return value

    # lookups ----------------------------------------------------------------------------------

    def _prepare_lookup(self, cf: CompiledField, spec: LookupSpec, records: Sequence[Record]) -> None:
        io = self.ios[spec.side]
        unresolved = list(records)
        for key in spec.by:  # each key only for the records the keys before it did not find
            values = [v for r in unresolved if (v := _key_value(r, key.from_, key.normalise)) is not None]
            if values:
                io.prefetch(spec.entity, key.field, values, key.normalise)
            unresolved = [r for r in unresolved if not self._hits(io, spec, key, r)]
        pending: dict[str, list[Record]] = {}
        for record in records:
            found = self._find(io, spec, record)
            if found is not None:
                self._values[(cf.name, id(record))] = (
                    found.id if spec.returns is None else found.fields.get(spec.returns)
                )
            elif spec.create is not None:
                label = next((v for k in spec.by if (v := _key_value(record, k.from_, k.normalise))), None)
                if label is not None:
                    pending.setdefault(label, []).append(record)
        if pending:
            self._create(cf, spec, io, pending)

    def _find(self, io: SideIO, spec: LookupSpec, record: Record) -> Record | None:
        for key in spec.by:
            hits = self._hits(io, spec, key, record)
            if hits:
                return _best(hits)
        return None

    @staticmethod
    def _hits(io: SideIO, spec: LookupSpec, key: LookupKey, record: Record) -> list[Record]:
        wanted = _key_value(record, key.from_, key.normalise)
        if wanted is None:
            return []
        return [
            r
            for r in io.lookup(spec.entity, key.field, wanted)
            if wanted in normalise.keys_of(r.fields.get(key.field), key.normalise)
        ]

    def _create(
        self, cf: CompiledField, spec: LookupSpec, io: SideIO, pending: dict[str, list[Record]]
    ) -> None:
        rules = compile_rules(spec.create or {})
        changes: list[Change] = []
        firsts: dict[str, Record] = {}
        for label, group in pending.items():
            first = group[0]
            try:
                fields = {}
                for rule in rules:
                    value = forward(rule, first, FieldContext(io, rule.name))
                    if value is not MISSING:
                        fields[rule.name] = value
            except FieldProblem as exc:
                for record in group:
                    self._values[(cf.name, id(record))] = FieldProblem(
                        f"{cf.name}: cannot create {spec.entity}: {exc}"
                    )
                continue
            changes.append(Change(key=label, op="create", fields=fields))
            firsts[label] = first
        results = {r.key: r for r in io.write(spec.entity, changes)} if changes and not self.plan_only else {}
        for change in changes:
            result = results.get(change.key)
            new_id = result.id if result is not None else None
            error = result.error if result is not None else None
            ref = f"{spec.entity} {change.fields!s:.60}"
            self.created.append(Created(spec.entity, spec.side, new_id, ref, dict(change.fields), error))
            for record in pending[change.key]:
                self._values[(cf.name, id(record))] = self._created_value(cf, spec, change, new_id, error)
            if new_id is not None and error is None:
                made = Record(id=new_id, fields=dict(change.fields))
                for key in spec.by:
                    value = _key_value(firsts[change.key], key.from_, key.normalise)
                    if value is not None:
                        io.add_lookup(spec.entity, key.field, value, made)

    def _created_value(
        self, cf: CompiledField, spec: LookupSpec, change: Change, new_id: str | None, error: str | None
    ) -> Any:
        if self.plan_only:
            return f"(new {spec.entity}: {change.key})"
        if error is not None or new_id is None:
            return FieldProblem(f"{cf.name}: cannot create {spec.entity} {change.key!r}: {error}")
        return new_id if spec.returns is None else change.fields.get(spec.returns, new_id)

    # links of other profiles ------------------------------------------------------------------

    def _prepare_links(self, spec: LinkField, records: Sequence[Record]) -> None:
        wanted = {str(v) for r in records for v in _ids(raw_value(r, spec.from_))}
        missing = [v for v in wanted if (spec.links_of, v) not in self._links]
        if missing:
            found = self.store.links_by_source(spec.links_of, missing)
            for value in missing:
                link = found.get(value)
                self._links[(spec.links_of, value)] = link.target_id if link else None

    def _link(self, cf: CompiledField, spec: LinkField, value: Any) -> Any:
        if is_empty(value):
            return value
        if isinstance(value, list | tuple):
            return [self._link(cf, spec, v) for v in value]
        key = (spec.links_of, str(value))
        if key not in self._links:
            self._prepare_links(spec, [Record(id=None, fields={spec.from_: value})])
        mapped = self._links[key]
        if mapped is None:
            if spec.missing == "empty":
                return None
            raise FieldProblem(
                f"{cf.name}: {value} is not linked by profile {spec.links_of!r} yet; run it first"
            )
        return mapped

    def link_back(self, cf: CompiledField, value: Any) -> Any:
        """A target-side id back to the source id, through the other profile's links."""
        assert isinstance(cf.spec, LinkField)
        if is_empty(value):
            return value
        if isinstance(value, list | tuple):
            return [self.link_back(cf, v) for v in value]
        found = self.store.links_by_target(cf.spec.links_of, [str(value)])
        link = found.get(str(value))
        if link is None:
            if cf.spec.missing == "empty":
                return None
            raise FieldProblem(f"{cf.name}: {value} is not linked by profile {cf.spec.links_of!r}")
        return link.source_id


def _ids(value: Any) -> list[Any]:
    if is_empty(value):
        return []
    return list(value) if isinstance(value, list | tuple) else [value]

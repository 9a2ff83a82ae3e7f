"""Field maps compiled from a profile: source -> target values, and back for two-way fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .records import Record
from .spec import RECORD_ID, AnyField, ConstField, FromField, LinkField, LookupField, Profile
from .transforms import Transform, TransformContext, build_transform
from .values import MISSING, get_path, is_empty, jsonable, same

Resolver = Callable[["CompiledField", Record], Any]
"""Resolves lookup and link fields for a record (the engine prefetches them per batch)."""


class FieldProblem(ValueError):
    """A field's value cannot be produced; the message names the field and what is wrong."""


def map_key(value: Any) -> str:
    """The text a value-map key is compared with (YAML keys are kept as written)."""
    plain = jsonable(value)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, float) and plain.is_integer():
        return str(int(plain))
    return str(plain).strip()


@dataclass(frozen=True)
class CompiledField:
    """One target field's rule with its transform built and its value map indexed both ways."""

    name: str
    spec: AnyField
    transform: Transform | None
    to_target: bool
    to_source: bool

    @property
    def paths(self) -> tuple[str, ...]:
        if isinstance(self.spec, FromField):
            return self.spec.paths
        if isinstance(self.spec, LinkField):
            return (self.spec.from_,)
        if isinstance(self.spec, LookupField):
            return tuple(key.from_ for key in self.spec.lookup.by)
        return ()

    @property
    def source_path(self) -> str | None:
        """The single source field a two-way value flows back into."""
        paths = self.paths
        return paths[0] if len(paths) == 1 and isinstance(self.spec, FromField | LinkField) else None

    def same(self, desired: Any, current: Any) -> bool:
        return self.transform.same(desired, current) if self.transform else same(desired, current)

    def patch(self, desired: Any, current: Any) -> Any:
        return self.transform.patch(desired, current) if self.transform else desired


def compile_fields(profile: Profile) -> list[CompiledField]:
    """Build every field's transform (options were validated when the profile loaded)."""
    compiled = []
    two_way = profile.direction == "two_way"
    for name, spec in profile.fields.items():
        transform = build_transform(spec.transform.name, spec.transform.options) if spec.transform else None
        flows_back = two_way and isinstance(spec, FromField | LinkField) and spec.direction != "to_target"
        compiled.append(CompiledField(name, spec, transform, spec.direction != "to_source", flows_back))
    return compiled


def compile_rules(rules: Mapping[str, FromField | ConstField]) -> list[CompiledField]:
    """Compile a lookup's ``create`` fields (always one-way)."""
    return [
        CompiledField(
            name,
            spec,
            build_transform(spec.transform.name, spec.transform.options) if spec.transform else None,
            True,
            False,
        )
        for name, spec in rules.items()
    ]


def raw_value(record: Record, path: str) -> Any:
    """A source value by path; ``$id`` is the record id."""
    if path == RECORD_ID:
        return record.id if record.id is not None else MISSING
    return get_path(record.fields, path)


def forward(cf: CompiledField, record: Record, ctx: TransformContext, resolve: Resolver | None = None) -> Any:
    """The value ``cf`` writes to the target for ``record``, or ``MISSING`` for "leave it alone".

    Raises:
        FieldProblem: the value is required but empty, not in the value map, or the transform refused it.
    """
    spec = cf.spec
    if isinstance(spec, ConstField):
        value: Any = spec.const
    elif isinstance(spec, LookupField | LinkField):
        if resolve is None:
            raise FieldProblem(f"{cf.name}: lookups need the engine")
        value = resolve(cf, record)
    else:
        values = [raw_value(record, p) for p in cf.paths]
        if all(v is MISSING for v in values):
            return _empty(cf, MISSING)
        value = values[0] if len(values) == 1 else tuple(None if v is MISSING else v for v in values)
    if is_empty(value) or (isinstance(value, tuple) and all(is_empty(v) for v in value)):
        return _empty(cf, value)
    if isinstance(spec, LookupField | LinkField) and not spec.map and not cf.transform:
        return value
    if spec.map is not None:
        value = _map_value(cf, value)
        if value is MISSING:
            return MISSING
    if cf.transform is not None:
        try:
            value = cf.transform.forward(value, ctx)
        except ValueError as exc:
            raise FieldProblem(f"{cf.name}: {exc}") from None
    if is_empty(value):
        return _empty(cf, value)
    return value


def _empty(cf: CompiledField, value: Any) -> Any:
    spec = cf.spec
    if spec.has_default:
        return spec.default
    if spec.required:
        source = ", ".join(cf.paths) or "its source"
        raise FieldProblem(f"{cf.name} is required but {source} is empty")
    if spec.empty == "clear" and value is not MISSING:
        return None
    return MISSING


def _map_value(cf: CompiledField, value: Any) -> Any:
    table = cf.spec.map or {}
    if isinstance(value, list):
        mapped = [_map_one(cf, table, v) for v in value]
        return [v for v in mapped if v is not MISSING]
    return _map_one(cf, table, value)


def _map_one(cf: CompiledField, table: Mapping[str, Any], value: Any) -> Any:
    key = map_key(value)
    if key in table:
        return table[key]
    folded = {k.casefold(): v for k, v in table.items()}
    if key.casefold() in folded:
        return folded[key.casefold()]
    policy = cf.spec.unmapped
    if policy == "keep":
        return value
    if policy == "drop":
        return MISSING
    if policy == "default":
        return cf.spec.default
    known = ", ".join(repr(k) for k in list(table)[:10])
    raise FieldProblem(f"{cf.name}: {key!r} is not in the value map ({known})")


def reverse(
    cf: CompiledField,
    target: Record,
    ctx: TransformContext,
    resolve_back: Callable[[CompiledField, Any], Any] | None = None,
) -> Any:
    """The value a two-way field writes back into the source for ``target``'s current value."""
    value = get_path(target.fields, cf.name)
    if value is MISSING:
        return MISSING
    if isinstance(cf.spec, LinkField):
        if resolve_back is None:
            raise FieldProblem(f"{cf.name}: links need the engine")
        return resolve_back(cf, value)
    if cf.transform is not None and not is_empty(value):
        try:
            value = cf.transform.reverse(value, ctx)
        except ValueError as exc:
            raise FieldProblem(f"{cf.name}: {exc}") from None
    if cf.spec.map is not None and not is_empty(value):
        value = _unmap(cf, value)
    return value


def _unmap(cf: CompiledField, value: Any) -> Any:
    back = {map_key(v): k for k, v in (cf.spec.map or {}).items()}
    if isinstance(value, list):
        return [back.get(map_key(v), v) for v in value]
    key = map_key(value)
    if key in back:
        return back[key]
    if cf.spec.unmapped == "fail":
        raise FieldProblem(f"{cf.name}: {key!r} has no source value in the value map")
    return value if cf.spec.unmapped == "keep" else MISSING

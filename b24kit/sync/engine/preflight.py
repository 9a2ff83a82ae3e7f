"""Before anything is written: every field a profile names exists on its side, every value is allowed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from b24kit.sync.connector import Connector, FieldInfo
from b24kit.sync.mapping import map_key
from b24kit.sync.records import Side
from b24kit.sync.spec import RECORD_ID, ConstField, FromField, LinkField, LookupField, Profile
from b24kit.sync.suggest import did_you_mean
from b24kit.sync.values import is_empty

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found by comparing the profile with a live system: where, what, and a suggestion."""

    path: Path
    message: str
    suggestion: str | None = None


def _describe(connector: Connector, entity: str) -> Mapping[str, FieldInfo]:
    if "describe" not in connector.capabilities:
        return {}
    return connector.describe(entity)


def check_fields(profile: Profile, source: Connector, target: Connector) -> list[Issue]:
    """Compare the profile with what each side describes (sides that cannot describe are skipped)."""
    known: dict[Side, Mapping[str, FieldInfo]] = {
        "source": _describe(source, profile.source.entity),
        "target": _describe(target, profile.target.entity),
    }
    connectors: dict[Side, Connector] = {"source": source, "target": target}
    issues = list(_names(profile, known))
    issues.extend(_values(profile, known["target"]))
    issues.extend(_lookups(profile, connectors))
    return issues


def _top(path: str, fields: Mapping[str, Any]) -> str:
    return path if path in fields else path.split(".")[0]


def _missing(
    side: Side, entity: str, name: str, fields: Mapping[str, FieldInfo], where: Path
) -> Issue | None:
    if not fields or name == RECORD_ID or _top(name, fields) in fields:
        return None
    return Issue(where, f"{side} {entity!r} has no field {name!r}", did_you_mean(name, fields))


def _names(profile: Profile, known: Mapping[Side, Mapping[str, FieldInfo]]) -> Iterator[Issue]:
    src, tgt = known["source"], known["target"]
    s_entity, t_entity = profile.source.entity, profile.target.entity
    checks: list[tuple[Side, str, Mapping[str, FieldInfo], Path]] = []
    for name, spec in profile.fields.items():
        checks.append(("target", name, tgt, ("fields", name)))
        paths: list[str] = []
        if isinstance(spec, LookupField):
            paths = [k.from_ for k in spec.lookup.by]
        elif isinstance(spec, FromField):
            paths = list(spec.paths)
        elif isinstance(spec, LinkField):
            paths = [spec.from_]
        checks.extend(("source", p, src, ("fields", name, "from")) for p in paths)
    for i, key in enumerate(profile.match.keys):
        checks.append(("source", key.source, src, ("match", "keys", i, "source")))
        checks.append(("target", key.target, tgt, ("match", "keys", i, "target")))
    for i, cond in enumerate(profile.source.where):
        checks.append(("source", cond.field, src, ("source", "where", i, "field")))
    for i, cond in enumerate(profile.target.where):
        checks.append(("target", cond.field, tgt, ("target", "where", i, "field")))
    for field_name in (*profile.deletes.deactivate, *profile.deletes.reactivate):
        section = "deactivate" if field_name in profile.deletes.deactivate else "reactivate"
        checks.append(("target", field_name, tgt, ("deletes", section, field_name)))
    for side, name, fields, where in checks:
        issue = _missing(side, s_entity if side == "source" else t_entity, name, fields, where)
        if issue is not None:
            yield issue


def _values(profile: Profile, fields: Mapping[str, FieldInfo]) -> Iterator[Issue]:
    """Value-map targets and constants must be items of enumeration fields (ids or labels)."""
    for name, spec in profile.fields.items():
        info = fields.get(name)
        if info is None or not info.items or spec.transform is not None:
            continue
        allowed = {map_key(k) for k in info.items} | {map_key(v) for v in info.items.values()}
        values: list[tuple[Path, Any]] = []
        if spec.map:
            values.extend((("fields", name, "map", k), v) for k, v in spec.map.items())
        if isinstance(spec, ConstField):
            values.append((("fields", name, "const"), spec.const))
        if spec.has_default:
            values.append((("fields", name, "default"), spec.default))
        for where, value in values:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if not is_empty(item) and map_key(item) not in allowed:
                    yield Issue(
                        where,
                        f"{item!r} is not a value of {name}",
                        did_you_mean(map_key(item), [*info.items, *info.items.values()]),
                    )


def _lookups(profile: Profile, connectors: Mapping[Side, Connector]) -> Iterator[Issue]:
    for name, spec in profile.fields.items():
        if not isinstance(spec, LookupField):
            continue
        lookup = spec.lookup
        fields = _describe(connectors[lookup.side], lookup.entity)
        for i, key in enumerate(lookup.by):
            issue = _missing(
                lookup.side, lookup.entity, key.field, fields, ("fields", name, "lookup", "by", i, "field")
            )
            if issue is not None:
                yield issue
        for field_name in lookup.create or {}:
            where = ("fields", name, "lookup", "create", field_name)
            issue = _missing(lookup.side, lookup.entity, field_name, fields, where)
            if issue is not None:
                yield issue

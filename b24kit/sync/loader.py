"""Load a profile from YAML: parse with lines, validate, and report every error with file, line and field."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from b24kit.errors import ConfigError, ConfigIssues

from .connector import connector_class
from .spec import PROFILE_VERSION, FromField, LinkField, LookupField, Profile, TransformRef
from .spec.fields import FIELD_TAGS
from .suggest import did_you_mean
from .transforms import transform_class
from .yamlload import Document, parse_yaml
from .yamlload import Path as DataPath

_TAGS = set(FIELD_TAGS.values())


class ProfileError(ConfigIssues):
    """A profile has one or more errors; ``issues`` lists each with its file, line and field."""


def load_profile(path: str | Path, *, env: Mapping[str, str], check_connectors: bool = True) -> Profile:
    """Read and validate the profile at ``path`` (see :func:`load_profile_document`)."""
    return load_profile_document(path, env=env, check_connectors=check_connectors)[0]


def load_profile_document(
    path: str | Path, *, env: Mapping[str, str], check_connectors: bool = True
) -> tuple[Profile, Document]:
    """Read and validate the profile at ``path``.

    Args:
        path: the YAML file.
        env: variables for ``${NAME}`` substitution (the CLI passes ``os.environ``).
        check_connectors: also validate each side's ``options`` against its connector (needs the
            connector installed).

    Raises:
        ProfileError: with every problem found, each naming the file, line and field.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError([ConfigError("file not found", source=str(path))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([ConfigError(f"cannot read the file: {exc}", source=str(path))]) from None
    return _load(text, source=str(path), env=env, check_connectors=check_connectors)


def load_profile_text(
    text: str, *, source: str, env: Mapping[str, str], check_connectors: bool = True
) -> Profile:
    """Validate profile YAML given as text; ``source`` names it in errors."""
    return _load(text, source=source, env=env, check_connectors=check_connectors)[0]


def _load(
    text: str, *, source: str, env: Mapping[str, str], check_connectors: bool
) -> tuple[Profile, Document]:
    try:
        doc = parse_yaml(text, source=source, env=env)
    except ConfigError as exc:
        raise ProfileError([exc]) from None
    if not isinstance(doc.data, dict):
        raise ProfileError(
            [
                ConfigError(
                    "a profile is a YAML mapping (version, name, source, target, fields...)",
                    source=source,
                    line=1,
                )
            ]
        )
    version = doc.data.get("version")
    if version != PROFILE_VERSION:
        raise ProfileError(
            [
                locate(
                    doc,
                    ("version",),
                    f"unsupported profile version {version!r}",
                    f"this b24kit reads version: {PROFILE_VERSION}",
                )
            ]
        )
    try:
        profile = Profile.model_validate(doc.data)
    except ValidationError as exc:
        raise ProfileError(_without_echoes([_translate(doc, err) for err in exc.errors()])) from None
    issues = list(_transform_issues(doc, profile))
    if check_connectors:
        issues.extend(_connector_issues(doc, profile))
    if issues:
        raise ProfileError(issues)
    return profile, doc


def locate(doc: Document, path: DataPath, message: str, suggestion: str | None = None) -> ConfigError:
    """A :class:`ConfigError` for ``path`` in ``doc`` (a profile or job file), with its line."""
    field = ".".join(str(p) for p in path) or None
    return ConfigError(message, source=doc.source, line=doc.line_of(path), field=field, suggestion=suggestion)


def _translate(doc: Document, err: Mapping[str, Any]) -> ConfigError:
    kind = err["type"]
    if kind == "profile_rule":
        path = tuple(_split(err["ctx"]["path"]))
        return locate(doc, path, err["ctx"]["message"])
    path, tail = _data_path(doc.data, err["loc"])
    if kind == "extra_forbidden" and tail is None and path:
        path, tail = path[:-1], path[-1]
    if kind == "extra_forbidden" and tail is not None:
        allowed = _keys_at(Profile, path)
        return locate(doc, (*path, tail), f"unknown key {tail!r}", did_you_mean(str(tail), allowed))
    if kind == "missing" and tail:
        return locate(doc, path, f"missing required key {tail!r}")
    full = (*path, tail) if tail is not None else path
    message = _message(err)
    suggestion = None
    if kind in {"literal_error", "enum"} and isinstance(err.get("input"), str):
        suggestion = did_you_mean(
            err["input"], re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        )
    return locate(doc, full, message, suggestion)


def _without_echoes(issues: list[ConfigError]) -> list[ConfigError]:
    """Drop "missing key 'from'" where the same mapping has an unknown key that suggests 'from'."""
    suggested = {
        (i.source, i.field.rpartition(".")[0], i.suggestion)
        for i in issues
        if i.message.startswith("unknown key") and i.field
    }
    kept = []
    for issue in issues:
        key = issue.message.removeprefix("missing required key ")
        if key != issue.message and (issue.source, issue.field or "", f"did you mean {key}?") in suggested:
            continue
        kept.append(issue)
    return kept


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "literal_error":
        return f"{err.get('input')!r} is not allowed; {msg[0].lower()}{msg[1:]}"
    return msg


def _split(dotted: str) -> Iterator[str | int]:
    for part in dotted.split("."):
        yield int(part) if part.isdecimal() else part


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[DataPath, str | int | None]:
    """Map a pydantic location onto the YAML data: drop union tags; split off a key that is absent."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif last and part not in _TAGS and isinstance(node, dict):
            return tuple(path), part
        # anything else is a pydantic union tag or a type name: not part of the data
    return tuple(path), None


def _keys_at(model: type[BaseModel], path: DataPath) -> list[str]:
    """Every key a profile accepts at ``path`` (for did-you-mean on unknown keys)."""
    types_: list[Any] = [model]
    for part in path:
        types_ = [t for tp in types_ for t in _step(tp, part)]
    keys: set[str] = set()
    for tp in types_:
        for cls in _models(tp):
            keys.update(f.alias or name for name, f in cls.model_fields.items())
    return sorted(keys)


def _step(tp: Any, part: str | int) -> list[Any]:
    found: list[Any] = []
    for inner in _flatten(tp):
        if isinstance(inner, type) and issubclass(inner, BaseModel) and isinstance(part, str):
            for name, info in inner.model_fields.items():
                if part in (name, info.alias):
                    found.append(info.annotation)
        origin = typing.get_origin(inner)
        args = typing.get_args(inner)
        if origin is dict and args:
            found.append(args[1])
        elif origin in (tuple, list) and args and isinstance(part, int):
            found.append(args[0])
    return found


def _flatten(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(tp)[0])
    if origin is Union or isinstance(tp, types.UnionType):
        return [x for arg in typing.get_args(tp) for x in _flatten(arg)]
    return [tp]


def _models(tp: Any) -> list[type[BaseModel]]:
    return [t for t in _flatten(tp) if isinstance(t, type) and issubclass(t, BaseModel)]


def _field_specs(profile: Profile) -> Iterator[tuple[DataPath, Any]]:
    for name, spec in profile.fields.items():
        yield ("fields", name), spec
        if isinstance(spec, LookupField) and spec.lookup.create:
            for inner, inner_spec in spec.lookup.create.items():
                yield ("fields", name, "lookup", "create", inner), inner_spec
    for side in ("target", "source"):
        for name, rule in getattr(profile.computed, side).items():
            yield ("computed", side, name), rule


def _transform_issues(doc: Document, profile: Profile) -> Iterator[ConfigError]:
    for path, spec in _field_specs(profile):
        ref: TransformRef | None = spec.transform
        if ref is None:
            continue
        where = (*path, "transform")
        try:
            cls = transform_class(ref.name)
        except ConfigError as exc:
            yield locate(
                doc,
                (*where, "name") if isinstance(_at(doc.data, where), dict) else where,
                exc.message,
                exc.suggestion,
            )
            continue
        try:
            cls.Options.model_validate(ref.options)
        except ValidationError as exc:
            for err in exc.errors():
                yield _option_issue(doc, where, cls.Options, err, extra_allowed=["name"])
            continue
        if path[0] == "fields" and _flows_back(profile, spec) and not cls.reversible:
            yield locate(
                doc,
                where,
                f"transform {ref.name!r} cannot be reversed, so this field cannot flow back to the source",
                "add `direction: to_target`",
            )


def _flows_back(profile: Profile, spec: Any) -> bool:
    return (
        profile.direction == "two_way"
        and isinstance(spec, FromField | LinkField)
        and spec.direction != "to_target"
    )


def _option_issue(
    doc: Document, where: DataPath, options: type[BaseModel], err: Mapping[str, Any], extra_allowed: list[str]
) -> ConfigError:
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden" and loc:
        allowed = [*extra_allowed, *(f.alias or n for n, f in options.model_fields.items())]
        return locate(doc, (*where, *loc), f"unknown option {loc[-1]!r}", did_you_mean(str(loc[-1]), allowed))
    if err["type"] == "missing" and loc:
        return locate(doc, (*where, *loc[:-1]), f"missing required option {loc[-1]!r}")
    suggestion = None
    if err["type"] == "literal_error" and isinstance(err.get("input"), str):
        suggestion = did_you_mean(
            err["input"], re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        )
    return locate(doc, (*where, *loc), _message(err), suggestion)


def _at(data: Any, path: DataPath) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def _connector_issues(doc: Document, profile: Profile) -> Iterator[ConfigError]:
    for side in ("source", "target"):
        spec = getattr(profile, side)
        try:
            cls = connector_class(spec.connector)
        except ConfigError as exc:
            yield locate(doc, (side, "connector"), exc.message, exc.suggestion)
            continue
        try:
            cls.Options.model_validate(spec.options)
        except ValidationError as exc:
            for err in exc.errors():
                yield _option_issue(doc, (side, "options"), cls.Options, err, extra_allowed=[])
        yield from _capability_issues(doc, profile, side, cls.capabilities)


def _capability_issues(
    doc: Document, profile: Profile, side: str, caps: frozenset[str]
) -> Iterator[ConfigError]:
    spec = getattr(profile, side)
    writes = side == "target" or profile.direction == "two_way"
    reads = side == "source" or profile.direction == "two_way"
    needed = [c for c in ("read",) if reads] + [c for c in ("fetch", "lookup", "write") if writes]
    lacking = [c for c in needed if c not in caps]
    if lacking:
        verbs = ", ".join(_VERBS[c] for c in lacking)
        yield locate(
            doc,
            (side, "connector"),
            f"connector {spec.connector!r} cannot {verbs}, which this profile needs as its {side}",
            "choose another connector or direction",
        )
    if spec.cursor is not None and "incremental" not in caps:
        yield locate(
            doc,
            (side, "connector"),
            f"connector {spec.connector!r} cannot read incrementally",
            "remove `cursor`",
        )


_VERBS = {
    "read": "read records",
    "fetch": "fetch records by id",
    "lookup": "look records up",
    "write": "write records",
    "incremental": "read incrementally",
}


def profile_schema() -> dict[str, Any]:
    """The JSON Schema of profile version 1 (editors and CI validate YAML profiles with it)."""
    schema = Profile.model_json_schema(by_alias=True)
    schema = _allow_shorthands(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://b24kit.dev/schemas/profile-v1.json",
        "title": "b24kit sync profile, version 1",
        **schema,
    }


_SHORTHAND = {"#/$defs/FromField", "#/$defs/TransformRef", "#/$defs/Schedule"}


def _allow_shorthands(node: Any) -> Any:
    """Where a bare string is accepted (a source field, a transform name, a cron line), say so."""
    if isinstance(node, dict):
        if node.get("$ref") in _SHORTHAND and len(node) == 1:
            return {"anyOf": [{"type": "string"}, node]}
        return {k: _allow_shorthands(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_allow_shorthands(v) for v in node]
    return node

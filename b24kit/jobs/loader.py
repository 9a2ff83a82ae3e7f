"""Load job files: parse with lines, validate, resolve rules, hooks, profiles and settings, and
report every problem with its file, line, field and a suggestion (as profiles are validated)."""

from __future__ import annotations

import glob
import importlib
import typing
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from b24kit.automation import EventRuleSpec, RobotSpec, get_event_rule, get_robot
from b24kit.errors import ConfigError, ConfigIssues
from b24kit.robots.definitions import RobotDefinition
from b24kit.sync.loader import ProfileError, load_profile_document, locate
from b24kit.sync.suggest import did_you_mean
from b24kit.sync.yamlload import Document, parse_yaml
from b24kit.sync.yamlload import Path as DataPath

from .jobset import JobDef, JobSet
from .spec import JOBS_VERSION, Action, JobFile, JobSpec, Trigger


class JobsError(ConfigIssues):
    """Job files have errors; ``issues`` lists each with its file, line and field."""


def expand(patterns: Sequence[str], base_dir: Path) -> list[Path]:
    """Job files matching ``patterns`` (globs relative to ``base_dir``), sorted, each once."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(base_dir / pattern)
        for name in sorted(glob.glob(full, recursive=True)):
            found.setdefault(Path(name).resolve(), None)
    return list(found)


def load_jobs(
    paths: Sequence[Path], *, env: Mapping[str, str], portals: Collection[str] | None = None
) -> JobSet:
    """Every job of ``paths``; raises :class:`JobsError` listing all problems of all files."""
    issues: list[ConfigError] = []
    jobs: list[JobDef] = []
    for path in paths:
        try:
            jobs.extend(load_job_file(path, env=env, portals=portals))
        except JobsError as exc:
            issues.extend(exc.issues)
    issues.extend(_duplicates(jobs))
    if issues:
        raise JobsError(issues)
    return JobSet(jobs)


def load_job_file(
    path: Path, *, env: Mapping[str, str], portals: Collection[str] | None = None
) -> list[JobDef]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise JobsError([ConfigError(f"cannot read the file: {exc}", source=str(path))]) from None
    return load_job_text(text, source=str(path), base_dir=path.resolve().parent, env=env, portals=portals)


def load_job_text(
    text: str,
    *,
    source: str,
    base_dir: Path,
    env: Mapping[str, str],
    portals: Collection[str] | None = None,
) -> list[JobDef]:
    try:
        doc = parse_yaml(text, source=source, env=env)
    except ConfigError as exc:
        raise JobsError([exc]) from None
    if not isinstance(doc.data, dict):
        raise JobsError([ConfigError("a job file is a mapping (version, jobs)", source=source, line=1)])
    if doc.data.get("version") != JOBS_VERSION:
        raise JobsError(
            [
                locate(
                    doc,
                    ("version",),
                    f"unsupported job file version {doc.data.get('version')!r}",
                    f"this b24kit reads version: {JOBS_VERSION}",
                )
            ]
        )
    try:
        spec = JobFile.model_validate(doc.data)
    except ValidationError as exc:
        raise JobsError([_translate(doc, err, JobFile, ()) for err in exc.errors()]) from None
    issues: list[ConfigError] = []
    jobs: list[JobDef] = []
    for index, job in enumerate(spec.jobs):
        where: DataPath = ("jobs", index)
        try:
            jobs.append(_resolve(doc, where, job, base_dir, env, portals))
        except JobsError as exc:
            issues.extend(exc.issues)
    if issues:
        raise JobsError(issues)
    return jobs


def _resolve(
    doc: Document,
    where: DataPath,
    job: JobSpec,
    base_dir: Path,
    env: Mapping[str, str],
    portals: Collection[str] | None,
) -> JobDef:
    issues: list[ConfigError] = []
    if portals is not None:
        for i, name in enumerate(job.portals):
            if name not in portals:
                issues.append(
                    locate(
                        doc,
                        (*where, "portals", i),
                        f"no portal named {name!r}",
                        did_you_mean(name, list(portals)),
                    )
                )
    action = job.action or Action(rule=job.trigger.robot.code if job.trigger and job.trigger.robot else None)
    handler: RobotSpec | EventRuleSpec | None = None
    try:
        handler = _handler(job, action)
    except ConfigError as exc:
        issues.append(
            locate(doc, (*where, "action", "rule" if job.action else "trigger"), exc.message, exc.suggestion)
        )
    trigger = job.trigger or _rule_trigger(doc, where, handler, issues)
    if isinstance(handler, EventRuleSpec) and job.trigger and trigger.kind == "event":
        extra = [e for e in trigger.event_names if e not in handler.events]
        if extra and handler.events:
            issues.append(
                locate(
                    doc,
                    (*where, "trigger"),
                    f"rule {handler.name!r} handles {', '.join(handler.events)}, not {', '.join(extra)}",
                    "drop the trigger to use the rule's own events",
                )
            )
    settings = _settings(doc, where, action, handler, issues)
    hook = _hook(doc, where, action, issues)
    sync_events: set[str] = set()
    profile, input_file = _sync_paths(doc, where, action, base_dir, env, issues, sync_events)
    robot = _robot(trigger, action, handler)
    if issues:
        raise JobsError(issues)
    return JobDef(
        job,
        Path(doc.source),
        trigger,
        action,
        settings,
        handler,
        hook,
        robot,
        profile,
        input_file,
        frozenset(sync_events),
    )


def _handler(job: JobSpec, action: Action) -> RobotSpec | EventRuleSpec | None:
    if action.rule is None:
        return None
    if job.trigger is not None and job.trigger.kind == "robot":
        return get_robot(action.rule)
    return get_event_rule(action.rule)


def _rule_trigger(
    doc: Document, where: DataPath, handler: RobotSpec | EventRuleSpec | None, issues: list[ConfigError]
) -> Trigger:
    """A rule action without a trigger takes the rule's own events; a rule that declares none is
    a mistake of the job file (the stand-in returned then is never used: the job is refused)."""
    if isinstance(handler, EventRuleSpec) and handler.events:
        return Trigger(events=handler.events)
    if handler is not None or not issues:  # an unknown rule is reported already
        name = handler.name if isinstance(handler, EventRuleSpec) else "?"
        issues.append(
            locate(
                doc,
                (*where, "trigger"),
                f"rule {name!r} declares no events, so the job needs a trigger",
                'add trigger: {cron: "0 8 * * 1-5"} or {events: [ONCRMDEALUPDATE]}, or a robot or webhook',
            )
        )
    return Trigger(events=("ONCRMDEALUPDATE",))


def _settings(
    doc: Document,
    where: DataPath,
    action: Action,
    handler: RobotSpec | EventRuleSpec | None,
    issues: list[ConfigError],
) -> Any:
    if action.hook is not None or handler is None:
        return dict(action.settings)
    model: type[BaseModel] | None = handler.settings
    path = (*where, "action", "settings")
    if model is None:
        if action.settings:
            issues.append(locate(doc, path, f"{action.rule!r} takes no settings"))
        return None
    unknown = list(_unknown_keys(model, action.settings, ()))
    if unknown:  # settings models may ignore extra keys; a misspelt setting must not pass silently
        issues.extend(locate(doc, (*path, *loc), f"unknown key {loc[-1]!r}", hint) for loc, hint in unknown)
        return None
    try:
        return model.model_validate(action.settings)
    except ValidationError as exc:
        issues.extend(_translate(doc, err, model, path) for err in exc.errors())
        return None


def _unknown_keys(model: Any, data: Any, loc: DataPath) -> Iterator[tuple[DataPath, str | None]]:
    """Keys of ``data`` that ``model`` has no field for, with a did-you-mean, at any depth."""
    if not isinstance(data, dict) or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return
    fields = {(info.alias or name): info for name, info in model.model_fields.items()}
    fields.update(model.model_fields)
    for key, value in data.items():
        info = fields.get(str(key))
        if info is None:
            if model.model_config.get("extra") != "allow":
                yield (*loc, str(key)), did_you_mean(str(key), sorted(fields))
            continue
        inner = _model_in(info.annotation)
        if inner is None:
            continue
        if isinstance(value, dict) and _is_mapping_of(info.annotation):
            for sub, item in value.items():
                yield from _unknown_keys(inner, item, (*loc, str(key), str(sub)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from _unknown_keys(inner, item, (*loc, str(key), i))
        else:
            yield from _unknown_keys(inner, value, (*loc, str(key)))


def _is_mapping_of(annotation: Any) -> bool:
    return any(typing.get_origin(arg) is dict for arg in (annotation, *typing.get_args(annotation)))


def _hook(doc: Document, where: DataPath, action: Action, issues: list[ConfigError]) -> Any:
    if action.hook is None:
        return None
    try:
        return resolve_hook(action.hook)
    except ConfigError as exc:
        issues.append(locate(doc, (*where, "action", "hook"), exc.message, exc.suggestion))
        return None


def resolve_hook(ref: str) -> Any:
    """The callable named ``module:function``."""
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import {module_name!r}: {exc}", suggestion="is it installed or on PYTHONPATH?"
        ) from None
    found = getattr(module, attr, None)
    if not callable(found):
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise ConfigError(f"{module_name} has no function {attr!r}", suggestion=did_you_mean(attr, names))
    return found


def _sync_paths(
    doc: Document,
    where: DataPath,
    action: Action,
    base_dir: Path,
    env: Mapping[str, str],
    issues: list[ConfigError],
    events: set[str],
) -> tuple[Path | None, Path | None]:
    if action.sync is None:
        return None, None
    profile = (base_dir / action.sync).resolve()
    if not profile.exists():
        issues.append(locate(doc, (*where, "action", "sync"), f"no profile at {profile}"))
        return None, None
    try:
        loaded, _ = load_profile_document(profile, env=env)
    except ProfileError as exc:
        issues.extend(exc.issues)
    else:
        events.update(t.event.upper() for t in loaded.triggers.events)
    input_file = (base_dir / action.input).resolve() if action.input else None  # read when it runs
    return profile, input_file


def _robot(
    trigger: Trigger, action: Action, handler: RobotSpec | EventRuleSpec | None
) -> RobotDefinition | None:
    model = trigger.robot
    if model is None:
        return None
    if isinstance(handler, RobotSpec):
        return RobotDefinition.from_spec(handler, code=model.code, **model.overrides())
    overrides = {k: v for k, v in model.overrides().items() if v is not None}
    overrides.setdefault("name", model.code)
    return RobotDefinition(code=model.code, handler=action.hook or "", **overrides)


def _duplicates(jobs: list[JobDef]) -> Iterator[ConfigError]:
    seen: dict[str, JobDef] = {}
    for job in jobs:
        first = seen.setdefault(job.name, job)
        if first is not job:
            yield ConfigError(
                f"job name {job.name!r} is also used in {first.source}", source=str(job.source), field="name"
            )
    codes: dict[tuple[str, str], JobDef] = {}
    for job in jobs:
        if job.robot is None:
            continue
        for portal in job.spec.portals or ("*",):
            first = codes.setdefault((portal, job.robot.code), job)
            if first is not job:
                yield ConfigError(
                    f"robot {job.robot.code!r} is also declared by job {first.name!r}",
                    source=str(job.source),
                    field="trigger.robot",
                )


def _translate(doc: Document, err: Mapping[str, Any], model: type[BaseModel], base: DataPath) -> ConfigError:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
    path: DataPath = (*base, *loc)
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden" and loc:
        allowed = _keys(model, loc[:-1])
        return locate(doc, path, f"unknown key {loc[-1]!r}", did_you_mean(str(loc[-1]), allowed))
    if err["type"] == "missing" and loc:
        return locate(doc, path[:-1], f"missing required key {loc[-1]!r}")
    if err["type"] == "literal_error":
        message = f"{err.get('input')!r} is not allowed; {message[0].lower()}{message[1:]}"
    return locate(doc, path, message)


def _keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at ``loc`` (for did-you-mean)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        info = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if info is None:
            return []
        current = _model_in(info.annotation)
    fields = getattr(current, "model_fields", {})
    return sorted(info.alias or name for name, info in fields.items())


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside ``X | None``, ``tuple[X, ...]``, ``dict[str, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None

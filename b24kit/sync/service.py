"""What the CLI and the runner call: open a profile with its connectors and state, validate, plan, run."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from b24kit.errors import ConfigError

from .connector import Connector, ConnectorContext, connector_class, open_connector
from .engine import Listener, RunReport, run_sync
from .engine.preflight import check_fields
from .loader import ProfileError, load_profile_document, locate
from .records import Side
from .spec import Profile
from .state import Link, StateStore
from .yamlload import Document

DEFAULT_STATE_URL = "sqlite:///.b24kit/state.db"


@dataclass
class Session:
    """A loaded profile with both connectors open and its state store; close it when done."""

    path: Path
    profile: Profile
    doc: Document
    source: Connector
    target: Connector
    store: StateStore
    _closed: bool = field(default=False, repr=False)

    def preflight(self) -> list[ConfigError]:
        """Check every field, key and value of the profile against what both sides describe."""
        return [
            locate(self.doc, i.path, i.message, i.suggestion)
            for i in check_fields(self.profile, self.source, self.target)
        ]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for connector in (self.source, self.target):
                connector.close()
            self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _options(profile: Profile, side: str, input_file: Path | None) -> dict[str, Any]:
    spec = profile.source if side == "source" else profile.target
    options = dict(spec.options)
    if side == "source" and input_file is not None:
        if "path" not in connector_class(spec.connector).Options.model_fields:
            raise ConfigError(
                f"--input needs a file-based source; connector {spec.connector!r} reads no file",
                field="source.connector",
            )
        options["path"] = str(input_file.resolve())
    return options


def open_session(
    path: str | Path,
    *,
    env: Mapping[str, str],
    state_url: str = DEFAULT_STATE_URL,
    input_file: str | Path | None = None,
    portal: Any = None,
    clients: Mapping[str, Any] | None = None,
) -> Session:
    """Load the profile, open its connectors (``--input`` replaces the source's ``path``) and the store."""
    file = Path(path)
    profile, doc = load_profile_document(file, env=env)
    context = ConnectorContext(base_dir=file.resolve().parent, portal=portal, clients=dict(clients or {}))
    given = Path(input_file) if input_file is not None else None
    source = open_connector(profile.source.connector, _options(profile, "source", given), context)
    try:
        target = open_connector(profile.target.connector, _options(profile, "target", None), context)
    except BaseException:
        source.close()
        raise
    try:
        store = StateStore(state_url)
    except BaseException:
        source.close()
        target.close()
        raise
    return Session(file, profile, doc, source, target, store)


def validate_paths(
    paths: Sequence[str | Path], *, env: Mapping[str, str], connect: bool = False, portal: Any = None
) -> list[tuple[str, list[ConfigError]]]:
    """Validate each profile; with ``connect`` also check its fields against the live systems."""
    results: list[tuple[str, list[ConfigError]]] = []
    for path in paths:
        try:
            if connect:
                with open_session(path, env=env, state_url="sqlite://", portal=portal) as session:
                    results.append((str(path), session.preflight()))
            else:
                load_profile_document(path, env=env)
                results.append((str(path), []))
        except ProfileError as exc:
            results.append((str(path), list(exc.issues)))
        except ConfigError as exc:
            results.append((str(path), [exc]))
    return results


def execute(
    session: Session,
    *,
    plan_only: bool = False,
    full: bool = False,
    force_deletes: bool = False,
    listener: Listener | None = None,
    keep_outcomes: bool = False,
    only: Mapping[Side, Sequence[str]] | None = None,
) -> RunReport:
    """Preflight, then plan or run the session's profile (``only``: just these records by id per side)."""
    issues = session.preflight()
    if issues:
        raise ProfileError(issues)
    return run_sync(
        session.profile,
        session.source,
        session.target,
        session.store,
        plan_only=plan_only,
        full=full,
        force_deletes=force_deletes,
        listener=listener,
        keep_outcomes=keep_outcomes,
        only=only,
    )


def event_scope(profile: Profile, event: str, record_ids: Sequence[Any]) -> dict[Side, list[str]] | None:
    """The records an event names, on the side the profile's trigger for that event says.

    ``None`` when the profile has no trigger for the event (or it names no records): then the
    whole profile runs incrementally instead.
    """
    sides = {t.side for t in profile.triggers.events if t.event.casefold() == event.casefold()}
    ids = [str(i) for i in record_ids if str(i).strip()]
    if len(sides) != 1 or not ids:
        return None
    return {sides.pop(): ids}


LINK_COLUMNS = ("source_id", "target_id", "state")


def export_links(store: StateStore, profile: str, out: TextIO) -> int:
    """Write the profile's link table as CSV (source_id, target_id, state); returns the row count."""
    writer = csv.writer(out)
    writer.writerow(LINK_COLUMNS)
    count = 0
    for link in store.export_links(profile):
        writer.writerow((link.source_id, link.target_id, link.state))
        count += 1
    return count


def import_links(
    store: StateStore, profile: str, data: TextIO, *, source: str = "<stdin>", replace: bool = False
) -> int:
    """Read links from CSV (as exported) into the store; every row is checked before any is stored."""
    reader = csv.DictReader(data)
    missing = [c for c in LINK_COLUMNS[:2] if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(
            f"the CSV needs the columns {', '.join(LINK_COLUMNS[:2])} (missing {', '.join(missing)})",
            source=source,
            line=1,
        )
    links: list[Link] = []
    seen_source: dict[str, int] = {}
    seen_target: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        sid, tid = (row.get("source_id") or "").strip(), (row.get("target_id") or "").strip()
        state = (row.get("state") or "active").strip() or "active"
        if not sid or not tid:
            raise ConfigError("source_id and target_id must both be given", source=source, line=line)
        if state not in {"active", "deactivated", "gone"}:
            raise ConfigError(f"state {state!r} is not active, deactivated or gone", source=source, line=line)
        for value, seen, column in ((sid, seen_source, "source_id"), (tid, seen_target, "target_id")):
            if value in seen:
                raise ConfigError(
                    f"{column} {value!r} is already on line {seen[value]}", source=source, line=line
                )
            seen[value] = line
        links.append(Link(sid, tid, state))
    return store.import_links(profile, links, replace=replace)

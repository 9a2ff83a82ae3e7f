"""Pure batch logic: commands, chunks of 50 with safe wire labels, and per-command results."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from b24kit.errors import ApiError, BatchError, TransportError

from . import _wire
from ._errors import api_error

MAX_COMMANDS = 50
CommandError = ApiError | TransportError
_SAFE_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
_READ_METHODS = frozenset({"profile", "server.time", "scope", "methods", "app.info", "user.current"})
_READ_VERBS = frozenset({"list", "fields", "current", "info", "search", "count"})


def is_read(method: str) -> bool:
    """True for methods that only read (``*.get*``, ``*.list``, ``*.fields``, ``profile``...).

    Reads may be repeated after an answer was lost; writes may not (see ``docs/client.md``).
    """
    name = method.strip().lower()
    verb = name.rsplit(".", 1)[-1]
    return name in _READ_METHODS or verb.startswith("get") or verb in _READ_VERBS


@dataclass(frozen=True, slots=True)
class Command:
    """One REST call inside a batch: ``Command("crm.deal.update", {"id": 5, "fields": {...}})``.

    ``idempotent`` overrides the read/write guess used for retries: set it to ``True`` for a
    write that is safe to send twice (an update to fixed values), ``False`` to never repeat.
    """

    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    idempotent: bool | None = None

    def safe_to_repeat(self) -> bool:
        return is_read(self.method) if self.idempotent is None else self.idempotent

    def wire(self) -> str:
        return _wire.command(self.method.strip().lower(), self.params)


@dataclass(slots=True)
class BatchResult:
    """What a batch returned, by command label, in the order the commands were given.

    ``results`` holds the successful commands' results, ``errors`` the failed ones' typed
    errors (``status`` is ``None`` there: the batch itself answered 200; when a whole request
    failed, each of its commands gets that request's error, possibly a :class:`TransportError`);
    ``totals`` and ``nexts`` the list fields of list commands; ``times`` each command's ``time``.
    """

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, CommandError] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    nexts: dict[str, int] = field(default_factory=dict)
    times: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> BatchResult:
        """Raise :class:`BatchError` if any command failed; else return ``self``."""
        if self.errors:
            raise BatchError(dict(self.errors), dict(self.results))
        return self

    def merge(self, other: BatchResult) -> None:
        self.results.update(other.results)
        self.errors.update(other.errors)
        self.totals.update(other.totals)
        self.nexts.update(other.nexts)
        self.times.update(other.times)

    def ordered(self, labels: Iterable[str]) -> BatchResult:
        """The same result with every section in ``labels`` order."""
        keys = list(labels)

        def pick(d: dict[str, Any]) -> dict[str, Any]:
            return {k: d[k] for k in keys if k in d}

        return BatchResult(
            pick(self.results), pick(self.errors), pick(self.totals), pick(self.nexts), pick(self.times)
        )


@dataclass(frozen=True, slots=True)
class Chunk:
    """Up to 50 commands sent in one ``batch`` request: ``(label, wire label, command)``."""

    items: tuple[tuple[str, str, Command], ...]

    def payload(self, halt: bool = False) -> dict[str, Any]:
        return {"halt": 1 if halt else 0, "cmd": {wire: cmd.wire() for _, wire, cmd in self.items}}

    def methods(self) -> list[str]:
        return [cmd.method.strip().lower() for _, _, cmd in self.items]

    def safe_to_repeat(self) -> bool:
        return all(cmd.safe_to_repeat() for _, _, cmd in self.items)


def labelled(commands: Mapping[str, Command] | Sequence[Command]) -> list[tuple[str, Command]]:
    """``(label, command)`` pairs; a sequence is labelled ``"0"``, ``"1"``, ..."""
    if isinstance(commands, Mapping):
        pairs = [(str(k), v) for k, v in commands.items()]
    else:
        pairs = [(str(i), v) for i, v in enumerate(commands)]
    for label, cmd in pairs:
        if not isinstance(cmd, Command):
            raise TypeError(f"batch command {label!r} must be a Command, not {type(cmd).__name__}")
    return pairs


def chunks(pairs: Sequence[tuple[str, Command]], size: int = MAX_COMMANDS) -> list[Chunk]:
    """Split into chunks of ``size``; labels go on the wire as given when every label is a
    plain name (so ``$result[label]`` references work inside a chunk), else as ``c0``, ``c1``...
    (digit labels would make PHP answer with lists)."""
    keep = all(_SAFE_LABEL.match(label) for label, _ in pairs)
    out: list[Chunk] = []
    for start in range(0, len(pairs), size):
        part = pairs[start : start + size]
        out.append(
            Chunk(
                tuple((label, label if keep else f"c{start + i}", cmd) for i, (label, cmd) in enumerate(part))
            )
        )
    return out


def parse(chunk: Chunk, result: Any) -> BatchResult:
    """Split a batch answer's ``result`` into per-label results and typed errors."""
    sections = result if isinstance(result, Mapping) else {}
    ok = _wire.section(sections.get("result"))
    failed = _wire.section(sections.get("result_error"))
    totals = _wire.section(sections.get("result_total"))
    nexts = _wire.section(sections.get("result_next"))
    times = _wire.section(sections.get("result_time"))
    out = BatchResult()
    for label, wire, cmd in chunk.items:
        method = cmd.method.strip().lower()
        if wire in failed:
            out.errors[label] = api_error(None, failed[wire], method)
        elif wire in ok:
            out.results[label] = ok[wire]
        else:
            out.errors[label] = ApiError(
                "not run: an earlier command failed and the batch halted", method=method
            )
            continue
        if wire in totals:
            out.totals[label] = int(totals[wire])
        if wire in nexts:
            out.nexts[label] = int(nexts[wire])
        if isinstance(times.get(wire), dict):
            out.times[label] = times[wire]
    return out


def failed_chunk(chunk: Chunk, exc: CommandError) -> BatchResult:
    """Every command of a chunk whose request failed as a whole gets that failure."""
    return BatchResult(errors={label: exc for label, _, _ in chunk.items})

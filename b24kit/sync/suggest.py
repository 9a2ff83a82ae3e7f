"""Did-you-mean suggestions for misspelt names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``name`` (case-insensitive), or ``None`` when nothing is close."""
    options = sorted({c for c in choices if c})
    if not options:
        return None
    lowered = {c.lower(): c for c in options}
    if name.lower() in lowered:
        return lowered[name.lower()]
    found = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """``"did you mean 'x'?"`` for the closest choice, else the list of valid choices (short lists)."""
    options = sorted({c for c in choices if c})
    best = closest(name, options)
    if best is not None:
        return f"did you mean {best!r}?"
    if 0 < len(options) <= 12:
        return "expected one of: " + ", ".join(options)
    return None

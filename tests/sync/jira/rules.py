"""Hooks used by the tests' profiles through the ``call`` transform (``tests.sync.jira.rules:...``)."""

from __future__ import annotations

from typing import Any


def distributor(values: Any) -> str | None:
    """Deals of a million or more go direct; smaller ones to the cost center's distributor."""
    amount, center = values
    if amount is not None and float(amount) >= 1_000_000:
        return "Direct"
    return {"Engineering": "Softline", "Sales": "Merlion", "Finance": "OCS"}.get(str(center or ""))


def refuse(value: Any) -> Any:
    raise ValueError(f"{value!r} is refused by the hook")


def crash(value: Any) -> Any:
    return 1 / 0

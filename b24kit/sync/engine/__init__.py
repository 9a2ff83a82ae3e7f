"""The sync engine: pair records, decide per field, write in batches of 50, checkpoint after each."""

from __future__ import annotations

from .report import ACTIONS, PAST, Action, FieldChange, Listener, Outcome, RunReport
from .run import run_sync

__all__ = ["ACTIONS", "PAST", "Action", "FieldChange", "Listener", "Outcome", "RunReport", "run_sync"]

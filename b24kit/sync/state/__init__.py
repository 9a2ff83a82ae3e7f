"""The sync state store: links, snapshots, cursors, runs and the append-only run log."""

from __future__ import annotations

from .store import BatchCommit, Link, LogEntry, Pending, RunStart, Snapshot, StateStore

__all__ = ["BatchCommit", "Link", "LogEntry", "Pending", "RunStart", "Snapshot", "StateStore"]

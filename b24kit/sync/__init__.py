"""Sync profiles: YAML that pairs records of two systems, and the engine that keeps them in step.

The pieces: :mod:`~b24kit.sync.spec` (the profile language), :mod:`~b24kit.sync.loader` (YAML with
line numbers), :mod:`~b24kit.sync.connector` (the interface every system implements),
:mod:`~b24kit.sync.engine` (read, match, diff, plan, write, checkpoint) and
:mod:`~b24kit.sync.state` (links, snapshots, cursors and the run log).
"""

from __future__ import annotations

from .connector import Connector, ConnectorBase, ConnectorContext, FieldInfo, connector_class, open_connector
from .engine import Outcome, RunReport, run_sync
from .loader import ProfileError, load_profile, load_profile_text, profile_schema
from .records import Change, Record, Since, WriteResult
from .spec import Profile
from .state import StateStore

__all__ = [
    "Change",
    "Connector",
    "ConnectorBase",
    "ConnectorContext",
    "FieldInfo",
    "Outcome",
    "Profile",
    "ProfileError",
    "Record",
    "RunReport",
    "Since",
    "StateStore",
    "WriteResult",
    "connector_class",
    "load_profile",
    "load_profile_text",
    "open_connector",
    "profile_schema",
    "run_sync",
]

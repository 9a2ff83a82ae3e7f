"""Automation: robots and event rules as plain functions of validated input.

The runner (``b24kit.jobs``) receives the portal's calls and hands them to handlers registered
here; handlers talk to the portal only through the :class:`RuleContext` they are given.
"""

from __future__ import annotations

from .context import JobInfo, LocalMemory, Memory, RuleContext, Timers
from .payloads import PortalEvent, RobotCall
from .registry import EventRuleSpec, PropertySpec, RobotSpec, event_rule, get_event_rule, get_robot, robot

__all__ = [
    "EventRuleSpec",
    "JobInfo",
    "LocalMemory",
    "Memory",
    "PortalEvent",
    "PropertySpec",
    "RobotCall",
    "RobotSpec",
    "RuleContext",
    "Timers",
    "event_rule",
    "get_event_rule",
    "get_robot",
    "robot",
]

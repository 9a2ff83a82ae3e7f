"""Placeholder: filled in by the tasks method module work."""

from __future__ import annotations

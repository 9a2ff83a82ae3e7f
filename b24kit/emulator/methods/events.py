"""Placeholder: filled in by the events method module work."""

from __future__ import annotations

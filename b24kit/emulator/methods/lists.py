"""Placeholder: filled in by the lists method module work."""

from __future__ import annotations

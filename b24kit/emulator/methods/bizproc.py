"""Placeholder: filled in by the bizproc method module work."""

from __future__ import annotations

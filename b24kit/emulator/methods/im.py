"""Placeholder: filled in by the im method module work."""

from __future__ import annotations

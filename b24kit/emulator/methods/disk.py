"""Placeholder: filled in by the disk method module work."""

from __future__ import annotations

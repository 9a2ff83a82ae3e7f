"""Placeholder: filled in by the sonet method module work."""

from __future__ import annotations

"""Placeholder: filled in by the users method module work."""

from __future__ import annotations

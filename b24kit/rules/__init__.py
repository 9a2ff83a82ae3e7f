"""Built-in CRM rules (scenarios S1, S2, ...); importing this package registers them."""

from __future__ import annotations

from . import payment_schedule, required_fields

__all__ = ["payment_schedule", "required_fields"]

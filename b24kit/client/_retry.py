"""When a failed request is sent again, and how long to wait first."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Retry:
    """Retry policy for one portal.

    ``attempts``: tries in all (the first included) for retriable failures: 503
    ``QUERY_LIMIT_EXCEEDED``/``OVERLOAD_LIMIT``, and 5xx answers, timeouts and dropped
    connections of calls that are safe to repeat. The wait before try ``n`` is exponential
    (``backoff * 2**(n-1)``, capped at ``max_backoff``) with jitter: a random half of it.
    ``operating_waits``: how many times one call may wait out ``OPERATION_TIME_LIMIT``.
    """

    attempts: int = 6
    backoff: float = 0.5
    max_backoff: float = 30.0
    operating_waits: int = 3

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_backoff, self.backoff * float(2 ** max(0, attempt - 1)))
        jitter: float = (rng or random).uniform(0, ceiling / 2)
        return ceiling / 2 + jitter

"""Counters and the ``/metrics`` page (Prometheus text format 0.0.4), without a client library."""

from __future__ import annotations

import bisect
from collections.abc import Mapping

_HELP = {
    "b24kit_runner_accepted_total": ("counter", "Deliveries accepted and committed (queued or merged)."),
    "b24kit_runner_deduplicated_total": ("counter", "Repeated deliveries dropped."),
    "b24kit_runner_merged_total": (
        "counter",
        "Deliveries merged into a task already queued for their record.",
    ),
    "b24kit_runner_ignored_total": ("counter", "Events no job listens to (answered 200, not stored)."),
    "b24kit_runner_rejected_total": ("counter", "Requests refused, by reason."),
    "b24kit_runner_processed_total": ("counter", "Tasks finished."),
    "b24kit_runner_failed_total": ("counter", "Task attempts that failed."),
    "b24kit_runner_retried_total": ("counter", "Failed attempts queued again with backoff."),
    "b24kit_runner_dead_total": ("counter", "Tasks that became dead letters."),
    "b24kit_runner_robot_answers_total": ("counter", "bizproc.event.send answers, by outcome."),
    "b24kit_runner_queue_depth": ("gauge", "Tasks queued or running."),
    "b24kit_runner_dead_letters": ("gauge", "Dead letters waiting for b24kit jobs retry."),
    "b24kit_runner_rest_calls_total": ("counter", "HTTP requests sent to the portal."),
    "b24kit_runner_rest_retries_total": ("counter", "Portal requests repeated by the client."),
    "b24kit_runner_limit_waits_total": (
        "counter",
        "Portal limit hits the client waited out (503, 429, operating time).",
    ),
    "b24kit_runner_limit_wait_seconds_total": ("counter", "Seconds spent waiting for portal limits."),
    "b24kit_runner_accept_seconds": ("histogram", "Time from request to committed answer."),
}
BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
Labels = tuple[tuple[str, str], ...]


class Metrics:
    """Counters by name and labels, and the accept-latency histogram."""

    def __init__(self) -> None:
        self.counters: dict[tuple[str, Labels], float] = {}
        self._buckets = [0] * (len(BUCKETS) + 1)
        self._sum = 0.0
        self._count = 0

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        self.counters[key] = self.counters.get(key, 0.0) + value

    def get(self, name: str, **labels: str) -> float:
        return self.counters.get((name, tuple(sorted(labels.items()))), 0.0)

    def observe_accept(self, seconds: float) -> None:
        self._buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        self._sum += seconds
        self._count += 1

    def render(self, gauges: Mapping[str, float], portals: Mapping[str, Mapping[str, float]]) -> str:
        """The page: counters, the given gauges, and each portal client's REST figures."""
        values = dict(self.counters)
        for name, value in gauges.items():
            values[(name, ())] = value
        for portal, stats in portals.items():
            labels = (("portal", portal),)
            values[("b24kit_runner_rest_calls_total", labels)] = stats.get("requests", 0)
            values[("b24kit_runner_rest_retries_total", labels)] = stats.get("retries", 0)
            waits = sum(
                stats.get(k, 0) for k in ("query_limit_hits", "operating_limit_hits", "operating_waits")
            )
            values[("b24kit_runner_limit_waits_total", labels)] = waits
            values[("b24kit_runner_limit_wait_seconds_total", labels)] = stats.get("waited_seconds", 0)
        lines: list[str] = []
        for name, (kind, text) in _HELP.items():
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            if kind == "histogram":
                lines += self._histogram(name)
                continue
            found = sorted((labels, v) for (n, labels), v in values.items() if n == name)
            if not found and kind == "counter":
                found = [((), 0.0)]
            lines += [f"{name}{_labels(labels)} {_number(v)}" for labels, v in found]
        return "\n".join(lines) + "\n"

    def _histogram(self, name: str) -> list[str]:
        lines, running = [], 0
        for bound, count in zip(BUCKETS, self._buckets, strict=False):
            running += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {running}')
        lines.append(f'{name}_bucket{{le="+Inf"}} {self._count}')
        lines.append(f"{name}_sum {_number(self._sum)}")
        lines.append(f"{name}_count {self._count}")
        return lines


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))

"""Workers: claim ready tasks, run them, and record the outcome (done, retry with backoff, dead).

A robot task always ends with an answer: when its handler fails for good, the error text is
kept as the answer and sent; sending has its own budget of attempts, so a portal outage delays
the answer but does not lose it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque

from b24kit.errors import OperationTimeLimit
from b24kit.robots import error_text

from .execute import Executor
from .inbox import Mark
from .model import Task
from .services import Services, retriable
from .settings import RetrySettings

log = logging.getLogger("b24kit.jobs")


def backoff(policy: RetrySettings, attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: doubling from ``policy.backoff``, capped, half jitter."""
    delay = float(min(policy.max_backoff, policy.backoff * 2 ** max(0, attempt - 1)))
    return float(delay / 2 + random.uniform(0, delay / 2))


class Workers:
    """A pool of ``size`` concurrent tasks fed by one dispatcher loop."""

    def __init__(self, services: Services, size: int) -> None:
        self.s = services
        self.size = size
        self.executor = Executor(services)
        self.active: set[asyncio.Task[None]] = set()
        self._slot = asyncio.Event()
        self.idle_poll = 0.2
        self.finished: list[tuple[Task, Mark | None]] = []
        self.next_ready = 0.0  # no claim before this time: nothing queued is ready sooner

    async def run(self) -> None:
        """One database round trip per turn: record finished tasks and claim more (up to twice
        the pool, so the next tasks are at hand); start tasks as slots free up. Between turns it
        sleeps until a task finishes, a task that needs no waiting arrives, or the earliest
        held-back task is due, so a burst of debounced events costs no idle polling."""
        buffer: deque[Task] = deque()
        while True:
            free = self.size - len(self.active)
            due = time.time() >= self.next_ready
            want = free + self.size - len(buffer) if free > 0 and not buffer and due else 0
            # finished tasks are recorded with the next claim, or once a pool's worth piled up,
            # or when nothing else is at hand (a finished mark also frees its record)
            if want or len(self.finished) >= self.size or not buffer:
                done, self.finished = self.finished, []
            else:
                done = []
            if done or want:
                try:
                    claimed = await self.s.queue.cycle(done, want)
                except Exception:
                    self.finished = done + self.finished
                    log.exception("the state store failed; trying again shortly")
                    await asyncio.sleep(1.0)
                    continue
                buffer.extend(claimed)
                if want and len(claimed) < want:
                    await self._plan_next()
            while buffer and len(self.active) < self.size:
                task = buffer.popleft()
                job = asyncio.create_task(self._process(task), name=f"b24kit-task-{task.id}")
                self.active.add(job)
                job.add_done_callback(self._finished)
            if len(self.active) >= self.size:
                await self._slot.wait()
                self._slot.clear()
            elif not buffer and not self.finished:
                pause = min(self.idle_poll, max(0.0, self.next_ready - time.time())) or self.idle_poll
                if await self.s.queue.wait(pause):
                    self.next_ready = 0.0

    async def _plan_next(self) -> None:
        """Nothing more is ready: no claim before the earliest queued task is due (a record held
        by a running task is looked at again when a task finishes, or at the next poll)."""
        try:
            due = await self.s.queue.next_due()
        except Exception:
            due = None
        now = time.time()
        self.next_ready = now + self.idle_poll if due is None or due <= now else due

    def _finished(self, job: asyncio.Task[None]) -> None:
        self.active.discard(job)
        self.next_ready = 0.0  # its record is free again: a later task of that record may be ready
        self._slot.set()
        self.s.queue.wake()

    async def stop(self, grace: float = 10.0) -> None:
        """Let running tasks finish for ``grace`` seconds; the rest are re-run after a restart."""
        if self.active:
            await asyncio.wait(list(self.active), timeout=grace)
        for job in list(self.active):
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job
        done, self.finished = self.finished, []
        if done:
            with contextlib.suppress(Exception):
                await self.s.queue.cycle(done, 0)

    async def _process(self, task: Task) -> None:
        started = time.perf_counter()
        try:
            mark = await self.executor.run(task)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(task, exc)
            return
        self.finished.append((task, mark))  # recorded by the dispatcher's next round trip
        self.s.metrics.inc("b24kit_runner_processed_total", kind=task.kind)
        if task.merged:
            self.s.metrics.inc("b24kit_runner_merged_total", task.merged, kind=task.kind)
        log.debug(
            "task %s (%s %s) done in %.3fs", task.id, task.kind, task.name, time.perf_counter() - started
        )

    async def _failed(self, task: Task, exc: BaseException) -> None:
        text = error_text(exc)
        self.s.metrics.inc("b24kit_runner_failed_total", kind=task.kind)
        if task.kind == "robot":
            job = self.s.jobs.robot(task.portal, task.name)
        else:
            job = self.s.jobs.get(str(task.progress.get("job") or task.payload.get("job") or task.name))
        policy = self.s.retry_policy(job)
        budget = policy.attempts
        if task.kind == "robot" and "answer" in task.progress:
            budget += int(task.progress.get("answer_from", 0))
        elif task.kind == "robot" and not (retriable(exc) and task.attempts < budget):
            if await self._answer_error(task, text):
                await self._record(task, text, None)
                return
            budget = task.attempts + policy.attempts
        can_retry = retriable(exc) and task.attempts < budget
        retry_at = time.time() + backoff(policy, task.attempts) if can_retry else None
        if retry_at is not None and isinstance(exc, OperationTimeLimit) and exc.reset_at:
            retry_at = max(retry_at, exc.reset_at + 1.0)  # the method is blocked until its reset
        await self._record(task, text, retry_at)

    async def _answer_error(self, task: Task, text: str) -> bool:
        """The handler failed for good: keep the error as the answer and try to send it now."""
        task.progress["answer"] = {"error": text}
        task.progress["answer_from"] = task.attempts
        try:
            await self.executor.send_answer(task)
        except Exception as exc:
            log.warning("task %s: answering robot %s failed (%s); will try again", task.id, task.name, exc)
            return False
        return True

    async def _record(self, task: Task, text: str, retry_at: float | None) -> None:
        try:
            outcome = await self.s.queue.fail(task, text, retry_at)
        except Exception:
            log.exception("task %s failed and could not be recorded; it will run again", task.id)
            return
        if outcome == "dead":
            self.s.metrics.inc("b24kit_runner_dead_total", kind=task.kind)
            log.error("task %s (%s %s) is a dead letter: %s", task.id, task.kind, task.name, text)
        else:
            self.s.metrics.inc("b24kit_runner_retried_total", kind=task.kind)
            log.warning("task %s (%s %s) failed, retrying: %s", task.id, task.kind, task.name, text)

"""The durable inbox, timers and marks, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from b24kit.jobs.model import Inbound
from b24kit.jobs.store import Install, JobStore


def event(deal: int, n: int = 0, *, delay: float = 0.0, name: str = "ONCRMDEALUPDATE") -> Inbound:
    key = f"emu:2:{deal}"
    return Inbound("emu", "event", name, {"n": n}, record_key=key, merge_key=f"{key}|{name}", delay=delay)


def robot(deal: int, token: str) -> Inbound:
    return Inbound(
        "emu", "robot", "echo", {"token": token}, record_key=f"emu:2:{deal}", dedupe_key=f"r:{token}"
    )


def test_queued_events_of_one_record_merge_into_one_task_with_the_newest_payload(store: JobStore):
    now = time.time()
    outcomes = store.inbox.accept([event(1, n) for n in range(100)], now=now, dedupe_window=60)
    assert outcomes == ["accepted"] * 100
    store.inbox.accept([event(1, 100), event(2, 0)], now=now, dedupe_window=60)
    rows = sorted(store.inbox.rows(), key=lambda r: r.id)
    assert [(r.record_key, r.merged, r.payload) for r in rows] == [
        ("emu:2:1", 100, {"n": 100}),
        ("emu:2:2", 0, {"n": 0}),
    ]


def test_a_repeated_delivery_key_is_dropped_within_the_window(store: JobStore):
    now = time.time()
    assert store.inbox.accept([robot(1, "t1"), robot(1, "t1")], now=now, dedupe_window=60) == [
        "accepted",
        "duplicate",
    ]
    assert store.inbox.accept([robot(1, "t1")], now=now + 30, dedupe_window=60) == ["duplicate"]
    assert store.inbox.accept([robot(1, "t1")], now=now + 100, dedupe_window=60) == ["accepted"]


def test_one_accept_sorts_stored_expired_and_new_keys_alike_in_a_large_group(store: JobStore):
    now = time.time()
    store.inbox.accept([robot(n, f"old{n}") for n in range(600)], now=now, dedupe_window=60)
    store.inbox.accept([robot(n, f"recent{n}") for n in range(3)], now=now + 90, dedupe_window=60)
    group = [robot(n, f"old{n}") for n in range(600)]  # seen 100 s ago: the window has passed
    group += [robot(n, f"recent{n}") for n in range(3)]  # seen 10 s ago: repeats
    group += [robot(n, f"new{n}") for n in range(700)] + [robot(1, "new1")]  # the last one twice
    outcomes = store.inbox.accept(group, now=now + 100, dedupe_window=60)
    assert outcomes == ["accepted"] * 600 + ["duplicate"] * 3 + ["accepted"] * 700 + ["duplicate"]
    again = store.inbox.accept([robot(5, "old5"), robot(6, "new6")], now=now + 101, dedupe_window=60)
    assert again == ["duplicate", "duplicate"]  # both recorded as seen by the large accept


def test_one_task_per_record_at_a_time_and_in_order(store: JobStore):
    now = time.time()
    store.inbox.accept([robot(1, "a"), robot(1, "b"), robot(2, "c"), event(3)], now=now, dedupe_window=60)
    first = store.inbox.claim(10, now=now, lease=60)
    assert [t.payload.get("token") for t in first] == ["a", "c", None]
    assert store.inbox.claim(10, now=now, lease=60) == []  # b waits for a (same deal)
    store.inbox.complete([(first[0], None)], now=now)
    second = store.inbox.claim(10, now=now, lease=60)
    assert [t.payload["token"] for t in second] == ["b"] and second[0].attempts == 1


def test_a_delayed_task_holds_back_later_tasks_of_its_record(store: JobStore):
    now = time.time()
    store.inbox.accept([event(1, delay=5.0), robot(1, "r"), robot(2, "s")], now=now, dedupe_window=60)
    assert [t.kind for t in store.inbox.claim(10, now=now, lease=60)] == ["robot"]  # deal 2's
    assert [t.kind for t in store.inbox.claim(10, now=now + 6, lease=60)] == ["event"]


def test_events_arriving_while_their_task_runs_queue_one_more_task(store: JobStore):
    now = time.time()
    store.inbox.accept([event(1, 0)], now=now, dedupe_window=60)
    running = store.inbox.claim(1, now=now, lease=60)
    store.inbox.accept([event(1, n) for n in range(1, 50)], now=now, dedupe_window=60)
    store.inbox.complete([(running[0], ("emu:2:1", 10.0, None))], now=now)
    (again,) = store.inbox.claim(5, now=now, lease=60)
    assert (again.payload, again.merged) == ({"n": 49}, 48)
    assert store.record("emu", "emu:2:1") == (10.0, {})


def test_retries_then_a_dead_letter_then_retry_from_the_cli(store: JobStore):
    now = time.time()
    store.inbox.accept([robot(1, "a")], now=now, dedupe_window=60)
    (task,) = store.inbox.claim(1, now=now, lease=60)
    assert store.inbox.fail(task, "portal 503", now=now, retry_at=now + 10) == "retry"
    assert store.inbox.claim(1, now=now + 5, lease=60) == []
    (task,) = store.inbox.claim(1, now=now + 11, lease=60)
    assert task.attempts == 2 and task.errors[0]["error"] == "portal 503"
    assert store.inbox.fail(task, "still down", now=now, retry_at=None) == "dead"
    dead = store.inbox.rows("dead")
    assert [(r.id, r.attempts, [e["error"] for e in r.errors]) for r in dead] == [
        (task.id, 2, ["portal 503", "still down"])
    ]
    assert store.inbox.retry_dead([task.id], now=now) == [task.id]
    (task,) = store.inbox.claim(1, now=now, lease=60)
    assert task.attempts == 1 and len(task.errors) == 2
    assert store.inbox.retry_dead(None, now=now) == []


def test_a_failed_event_merges_into_the_task_queued_after_it(store: JobStore):
    now = time.time()
    store.inbox.accept([event(1, 0)], now=now, dedupe_window=60)
    (task,) = store.inbox.claim(1, now=now, lease=60)
    store.inbox.accept([event(1, 1)], now=now, dedupe_window=60)
    store.inbox.fail(task, "boom", now=now, retry_at=now + 5)
    queued = store.inbox.rows("queued")
    assert [(r.payload, r.merged, r.attempts) for r in queued] == [({"n": 1}, 1, 1)]
    assert queued[0].available_at >= now + 5
    assert store.inbox.get(task.id).progress == {"merged_into": queued[0].id}


def test_recovery_requeues_running_tasks_and_buries_those_out_of_attempts(store: JobStore):
    now = time.time()
    store.inbox.accept([robot(1, "a"), robot(2, "b")], now=now, dedupe_window=60)
    tasks = store.inbox.claim(2, now=now, lease=60)
    store.inbox.accept([robot(3, "c")], now=now, dedupe_window=60)
    store.inbox.claim(1, now=now, lease=1)  # c: its lease runs out first
    assert store.inbox.recover(now=now + 2, every_running=False, max_attempts=5) == 1
    assert store.inbox.counts() == {"queued": 1, "running": 2}
    assert store.inbox.recover(now=now, every_running=True, max_attempts=1) == 2
    assert sorted(r.payload["token"] for r in store.inbox.rows("dead")) == ["a", "b"]
    assert [t.payload["token"] for t in tasks] == ["a", "b"]


def test_purge_forgets_old_finished_tasks_and_delivery_keys(store: JobStore):
    now = time.time()
    store.inbox.accept([robot(1, "a")], now=now - 100, dedupe_window=60)
    (task,) = store.inbox.claim(1, now=now, lease=60)
    store.inbox.complete([(task, None)], now=now - 50)
    assert store.inbox.purge(done_before=now - 10, seen_before=now - 10) == 1
    assert store.inbox.rows() == []
    assert store.inbox.accept([robot(1, "a")], now=now, dedupe_window=3600) == ["accepted"]


def test_timers_fire_once_and_can_be_moved_or_cancelled(store: JobStore):
    now = time.time()
    store.schedule_timer("emu", "deal:1:remind", now + 100, "remind", {"deal": 1})
    store.schedule_timer("emu", "deal:2:remind", now + 5, "remind", {"deal": 2})
    store.schedule_timer("emu", "deal:1:remind", now + 1, "remind", {"deal": 1, "moved": True})
    assert [t["key"] for t in store.timers()] == ["deal:1:remind", "deal:2:remind"]
    assert store.next_due() == now + 1
    assert store.cancel_timer("emu", "deal:2:remind") and not store.cancel_timer("emu", "deal:2:remind")
    assert store.fire_timers(now) == 0
    assert store.fire_timers(now + 2) == 1 and store.fire_timers(now + 3) == 0
    (task,) = store.inbox.claim(5, now=now + 2, lease=60)
    assert (task.kind, task.name, task.payload["payload"]) == ("timer", "remind", {"deal": 1, "moved": True})
    assert store.timers() == [] and store.next_due() is None


def test_marks_keep_the_newest_event_time_and_merge_fields(store: JobStore):
    now = time.time()
    store.inbox.accept([event(1), event(2)], now=now, dedupe_window=60)
    a, b = store.inbox.claim(2, now=now, lease=60)
    store.inbox.complete([(a, ("emu:2:1", 50.0, {"STAGE_ID": "NEW"})), (b, ("emu:2:2", 7.0, None))], now=now)
    store.inbox.accept([event(1)], now=now, dedupe_window=60)
    (c,) = store.inbox.claim(1, now=now, lease=60)
    store.inbox.complete([(c, ("emu:2:1", 40.0, {"OPPORTUNITY": 5}))], now=now)
    assert store.record("emu", "emu:2:1") == (50.0, {"STAGE_ID": "NEW", "OPPORTUNITY": 5})
    assert store.seen_times("emu", ["emu:2:1", "emu:2:2", "emu:2:3"]) == {"emu:2:1": 50.0, "emu:2:2": 7.0}


def test_installs_and_key_values(store: JobStore):
    store.save_install(Install("emu", "tok", "m", "d", "http://d/rest/", 1.0))
    store.save_install(Install("emu", "tok2", "m", "d", "http://d/rest/", 2.0))
    assert store.installs()["emu"].application_token == "tok2"
    store.delete_install("emu")
    assert store.installs() == {}
    store.set("a:1", "x")
    store.set("a:1", "y")
    store.set("a_2", "z")
    assert store.get("a:1") == "y" and store.keys("a:") == {"a:1": "y"}
    store.delete("a:1")
    assert store.get("a:1") is None

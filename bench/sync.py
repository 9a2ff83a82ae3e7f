"""Benchmark S22 (Excel contacts into the portal): b24kit sync vs a naive script, under cloud limits.

Run: ``python bench/sync.py [--rows 50000] [--naive-rows 1000] [--changed 0.01] [--seed 22]``.

It starts ``b24kit emulator serve --rate-limit cloud`` on a free port, writes workbooks of the S22
shape with openpyxl (write-only; contacts with realistic duplicates, companies shared by several
contacts, bad rows) and, each approach in its own process (so peak memory is that approach's
alone), measures:

* on a sample of ``--naive-rows`` rows, a fresh portal each: the naive script (read a row, search
  the portal, add or update, one REST call each, as integrators write it; a 503 waits a second)
  and ``b24kit sync run profiles/excel-contacts.yaml`` (the library call the CLI makes, report
  included); the naive figures for all ``--rows`` rows are extrapolated and labelled so;
* on ``--rows`` rows: the import into a fresh portal, the same workbook again (nothing changed),
  and a workbook with ``--changed`` of the people given a new position.

For each it prints HTTP requests (``/_emulator/stats``), the commands inside them and the writes
among them (``/_emulator/calls``, batch commands included), wall time and peak RSS, and checks
the targets: requests within 5% of the protocol minimum for the data (lookups and writes packed
into batches of 50 commands, ``crm.duplicate.findbycomm`` taking 20 values), peak memory under
300 MB, zero writes when nothing changed, and about as many writes as rows changed.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import emulated_portal
import httpx
from emulated_portal import emulator

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "excel-contacts.yaml"
HEADER = ["Name", "Position", "E-mail", "Phone", "Company", "INN"]
WRITES = (".add", ".update", ".delete")
FINDBYCOMM_VALUES = 20  # crm.duplicate.findbycomm: values per call (docs)
BATCH = 50  # commands per batch request

# -- the workbook ---------------------------------------------------------------------------------

FIRST = [
    ("Иван", "ivan"), ("Анна", "anna"), ("Пётр", "petr"), ("Мария", "maria"), ("Олег", "oleg"),
    ("Елена", "elena"), ("Сергей", "sergey"), ("Ольга", "olga"), ("Дмитрий", "dmitry"),
    ("Наталья", "natalya"), ("Алексей", "alexey"), ("Ирина", "irina"), ("Юрий", "yury"),
    ("Татьяна", "tatyana"), ("Павел", "pavel"), ("Светлана", "svetlana"),
]  # fmt: skip
LAST = [
    ("Иванов", "ivanov"), ("Смирнов", "smirnov"), ("Кузнецов", "kuznetsov"), ("Попов", "popov"),
    ("Соколов", "sokolov"), ("Лебедев", "lebedev"), ("Козлов", "kozlov"), ("Новиков", "novikov"),
    ("Морозов", "morozov"), ("Волков", "volkov"), ("Зайцев", "zaitsev"), ("Павлов", "pavlov"),
]  # fmt: skip
POSITIONS = ["Директор", "Бухгалтер", "Менеджер", "Инженер", "Юрист", "Закупщик", "Логист", None]
WORDS = ["Ромашка", "Василёк", "Вектор", "Альфа", "Прогресс", "Север", "Гранит", "Лидер", "Меридиан"]
FORMS = ["ООО", "АО", "ПАО", "ИП"]
MOBILE = ("916", "903", "905", "926", "977", "985", "999", "915", "925", "967")
PHONE_FORMS = (
    "+7 ({a}) {b}-{c}-{d}",
    "8 {a} {b} {c} {d}",
    "8{a}{b}{c}{d}",
    "+7{a}{b}{c}{d}",
    "8 ({a}) {b}{c}{d}",
)


def inn_for(number: int) -> str:
    """A valid 10-digit INN (organisation) built from nine digits."""
    digits = [int(ch) for ch in f"{number % 10**9:09d}"]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(w * n for w, n in zip(weights, digits, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


@dataclass
class Shape:
    """What the workbook holds, for the minimum a client needs: people, companies, bad rows."""

    rows: int = 0
    people: int = 0
    """Distinct valid people: each becomes one contact."""
    emails: int = 0
    phones: int = 0
    """Distinct valid phones of the people (each checked when its e-mail finds nothing)."""
    companies: int = 0
    """Distinct companies referenced by valid rows: each created once."""
    inns: int = 0
    titles: int = 0
    duplicates: int = 0
    bad: int = 0
    changed: int = 0
    extra_companies: int = 0
    """Companies only rows that fail later name (a bad phone, no name): the engine creates them
    before it checks the rows' other fields."""
    bad_kinds: Counter[str] = field(default_factory=Counter)


class People:
    """A deterministic population of contact persons and their companies."""

    def __init__(self, rows: int, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.rows = rows
        self.company_count = max(1, rows // 6)

    def company(self, index: int) -> tuple[str, str | None]:
        word = WORDS[index % len(WORDS)]
        form = FORMS[index % len(FORMS)]
        inn = inn_for(770_000_000 + index * 7) if index % 7 else None  # one in seven has no INN
        return f'{form} "{word}-{index}"', inn

    def phone(self, index: int) -> str:
        number = f"{MOBILE[index % len(MOBILE)]}{(index * 7919) % 10_000_000:07d}"
        a, b, c, d = number[:3], number[3:6], number[6:8], number[8:]
        return PHONE_FORMS[index % len(PHONE_FORMS)].format(a=a, b=b, c=c, d=d)


def workbook_rows(rows: int, seed: int, changed: float = 0.0) -> Iterator[tuple[list[Any], str]]:
    """``(cells, kind)`` per row; kind is person, duplicate, changed or a bad-row kind."""
    people = People(rows, seed)
    rnd = people.rnd
    seen: list[list[Any]] = []
    step = round(1 / changed) if changed else 0
    for index in range(rows):
        roll = rnd.random()
        if seen and roll < 0.03:  # the same person again, e-mail typed differently
            again = list(rnd.choice(seen))
            if again[2]:
                again[2] = f"  {str(again[2]).upper()} "
            yield again, "duplicate"
            continue
        first, first_lat = rnd.choice(FIRST)
        last, last_lat = rnd.choice(LAST)
        company_index = int(people.company_count * rnd.random() ** 2)  # some companies have many people
        title, inn = people.company(company_index)
        if rnd.random() < 0.1:
            title = f"  {title.lower()} "  # typed by hand: found by name all the same
        domain = f"{WORDS[company_index % len(WORDS)].lower()}{company_index}.ru"
        email: str | None = f"{first_lat}.{last_lat}.{index}@{domain}"
        phone = people.phone(index) if rnd.random() < 0.7 else None
        if rnd.random() < 0.1 and phone:
            email = None  # known by phone only
        position = rnd.choice(POSITIONS)
        cells: list[Any] = [f"{first} {last}", position, email, phone, title, inn]
        kind = "person"
        if roll > 0.99:  # one row in a hundred is broken
            kind = ("no name", "broken e-mail", "bad phone", "bad INN")[index % 4]
            if kind == "no name":
                cells[0] = None
            elif kind == "broken e-mail":
                cells[2] = f"{first_lat}@"
            elif kind == "bad phone":
                cells[3] = "12345"
            else:  # a company of its own (so it must be created) with a wrong control digit
                good = inn_for(990_000_000 + index)
                cells[4:6] = [f'ООО "Ошибка-{index}"', good[:9] + str((int(good[9]) + 1) % 10)]
        elif step and index % step == step // 2:
            cells[1] = f"{position or 'Сотрудник'} (повышен)"
            kind = "changed"
        if kind in ("person", "changed"):
            seen.append(cells)
        yield cells, kind


def write_workbook(path: Path, rows: int, seed: int, changed: float = 0.0) -> Shape:
    """Write the S22 workbook (openpyxl write-only) and describe what it holds."""
    import openpyxl

    from b24kit.sync import normalise

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Contacts")
    sheet.append(HEADER)
    shape = Shape()
    emails: set[str] = set()
    phones: set[str] = set()
    companies: set[tuple[str | None, str]] = set()
    inns: set[str] = set()
    titles: set[str] = set()
    failing: set[str] = set()
    for cells, kind in workbook_rows(rows, seed, changed):
        sheet.append(cells)
        shape.rows += 1
        if kind == "duplicate":
            shape.duplicates += 1
            continue
        if kind not in ("person", "changed"):
            shape.bad += 1
            shape.bad_kinds[kind] += 1
            identity = normalise.email(cells[2] or "") or normalise.phone(cells[3] or "")
            if identity and kind != "bad INN":  # its company is created before its fields fail
                failing.add(cells[5] or normalise.text(cells[4]) or "")
            continue
        shape.people += 1
        shape.changed += kind == "changed"
        email = normalise.email(cells[2]) if cells[2] else None
        phone = normalise.phone(cells[3]) if cells[3] else None
        if email:
            emails.add(email)
        if phone:
            phones.add(phone)
        inn = cells[5]
        title = normalise.text(cells[4]) or ""
        companies.add((inn, title) if inn else (None, title))
        if inn:
            inns.add(inn)
        titles.add(title)
    book.save(path)
    shape.emails, shape.phones = len(emails), len(phones)
    shape.companies = len({inn or title for inn, title in companies})
    shape.extra_companies = len(failing - {inn or title for inn, title in companies})
    shape.inns, shape.titles = len(inns), len(titles)
    return shape


# -- the emulator ---------------------------------------------------------------------------------


class Admin(emulated_portal.Admin):
    """The admin API plus the portal S22 needs (never used while measuring)."""

    def fresh_portal(self) -> None:
        """An empty portal with the company user field S22 needs (UF_CRM_INN, a string)."""
        self("reset", {})
        self("limits", {"rate_limit": "off"})
        body = self.http.post(
            f"{self.url}crm.company.userfield.add",
            json={"fields": {"FIELD_NAME": "INN", "USER_TYPE_ID": "string", "LABEL": "INN"}},
        ).json()
        if "result" not in body:
            raise SystemExit(f"cannot create UF_CRM_INN: {body}")

    def count(self, entity: str) -> int:
        self("limits", {"rate_limit": "off"})
        body = self.http.post(f"{self.url}crm.{entity}.list", json={"select": ["ID"]}).json()
        return int(body["total"])


class CallLog(threading.Thread):
    """Counts the commands the portal ran (batch commands included), polling ``/_emulator/calls``.

    The emulator keeps the last 20,000 calls, so the log is read every second while a run goes.
    """

    def __init__(self, admin: Admin) -> None:
        super().__init__(daemon=True)
        self.admin = admin
        self.methods: Counter[str] = Counter()
        self.via_batch = 0
        self._since = 0.0
        self._at_since = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(1.0):
            self.poll()

    def poll(self) -> None:
        calls = self.admin(f"calls?since={self._since!r}")
        skip = self._at_since  # calls stamped exactly ``since`` were counted by the last poll
        for call in calls:
            if call["ts"] == self._since and skip:
                skip -= 1
                continue
            self.methods[call["method"]] += 1
            self.via_batch += call.get("via") == "batch"
        if calls:  # the answer holds every call stamped ``since`` or later
            self._since = calls[-1]["ts"]
            self._at_since = sum(1 for c in calls if c["ts"] == self._since)

    def finish(self) -> dict[str, Any]:
        self._done.set()
        self.join()
        self.poll()
        writes = sum(n for m, n in self.methods.items() if m.endswith(WRITES))
        return {
            "commands": sum(n for m, n in self.methods.items() if m != "batch"),
            "writes": writes,
            "methods": dict(self.methods.most_common()),
        }


# -- the approaches (each in its own process) -------------------------------------------------------


def run_b24kit(url: str, workbook: Path, state: str, report: Path, limits: str) -> dict[str, Any]:
    """What ``b24kit sync run PROFILE --input BOOK --report REPORT --portal URL --state S`` calls."""
    import os

    from b24kit.client import PortalConfig
    from b24kit.sync.connectors.excel_report import open_report
    from b24kit.sync.service import execute, open_session

    writer = open_report(report)
    portal = PortalConfig.from_url(url, limits=limits)
    with open_session(
        PROFILE, env=os.environ, state_url=state, input_file=workbook, portal=portal
    ) as session:
        result = execute(session, listener=writer)
    writer.close(result)
    return {
        "outcomes": {k: v for k, v in result.summary().items() if v},
        "companies created": result.related.get("company", 0),
        "engine calls": result.calls,
    }


def run_naive(url: str, workbook: Path, state: str, report: Path, limits: str) -> dict[str, Any]:
    """Row by row: find the contact by e-mail, then phone; the company by INN, then name; add or update."""
    import openpyxl

    outcomes: Counter[str] = Counter()
    with httpx.Client(timeout=120) as http:

        def call(method: str, params: dict[str, Any]) -> Any:
            while True:
                response = http.post(url + method, json=params)
                if response.status_code == 503:  # QUERY_LIMIT_EXCEEDED: wait and try again
                    time.sleep(1.0)
                    continue
                body = response.json()
                if "error" in body:
                    raise RuntimeError(f"{method}: {body.get('error_description') or body['error']}")
                return body["result"]

        def first(method: str, filter_: dict[str, Any]) -> Any:
            rows = call(method, {"filter": filter_, "select": ["ID"]})
            return rows[0]["ID"] if rows else None

        book = openpyxl.load_workbook(workbook, read_only=True)
        sheet = book.worksheets[0]
        for cells in sheet.iter_rows(min_row=2, values_only=True):
            name, position, email, phone, company, inn = (*cells, None, None, None, None, None, None)[:6]
            if not name:
                outcomes["failed"] += 1
                continue
            try:
                email = str(email).strip() if email else None
                contact = first("crm.contact.list", {"EMAIL": email}) if email else None
                if contact is None and phone:
                    contact = first("crm.contact.list", {"PHONE": str(phone)})
                company_id = first("crm.company.list", {"UF_CRM_INN": str(inn)}) if inn else None
                if company_id is None and company:
                    company_id = first("crm.company.list", {"TITLE": str(company).strip()})
                if company_id is None and company:
                    made = {"TITLE": str(company).strip(), "UF_CRM_INN": str(inn or "")}
                    company_id = call("crm.company.add", {"fields": made})
                fields: dict[str, Any] = {"NAME": name, "POST": position or "", "COMPANY_ID": company_id}
                if contact is None:
                    fields["EMAIL"] = [{"VALUE": email, "VALUE_TYPE": "WORK"}] if email else []
                    fields["PHONE"] = [{"VALUE": str(phone), "VALUE_TYPE": "WORK"}] if phone else []
                    call("crm.contact.add", {"fields": fields})
                    outcomes["created"] += 1
                else:
                    call("crm.contact.update", {"id": contact, "fields": fields})
                    outcomes["updated"] += 1
            except RuntimeError:
                outcomes["failed"] += 1
        book.close()
    return {"outcomes": dict(outcomes)}


RUNNERS = {"b24kit": run_b24kit, "naive": run_naive}


def child(args: argparse.Namespace) -> None:
    """Entry point of the per-approach process: writes one JSON object to ``--result``."""
    import openpyxl  # noqa: F401

    import b24kit.sync.service  # noqa: F401 - both approaches pay for the same imports

    base = emulated_portal.peak_rss_mb()
    started = time.perf_counter()
    outcome = RUNNERS[args.child](args.url, Path(args.book), args.state, Path(args.report), args.limits)
    outcome["wall"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outcome["peak_mb"] = emulated_portal.peak_rss_mb()
    outcome["cpu"] = usage.ru_utime + usage.ru_stime
    outcome["base_mb"] = base
    Path(args.result).write_text(json.dumps(outcome))


# -- the driver -----------------------------------------------------------------------------------


def measure(admin: Admin, approach: str, book: Path, state: str, work: Path, limits: str) -> dict[str, Any]:
    """Run one approach in its own process against an emptied bucket; the portal's counts with it."""
    admin.fresh_bucket()
    if limits == "off":
        admin("limits", {"rate_limit": "off"})
    result_file = work / f"{approach}-{time.monotonic_ns()}.json"
    command = [sys.executable, __file__, "--child", approach, "--url", admin.url, "--book", str(book)]
    command += ["--state", state, "--report", str(work / "report.xlsx"), "--result", str(result_file)]
    command += ["--limits", limits]
    log = CallLog(admin)
    log.start()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    calls = log.finish()
    stats = admin("stats")
    if done.returncode == 0:
        outcome: dict[str, Any] = json.loads(result_file.read_text())
    else:
        reason = (done.stderr.strip().splitlines() or ["?"])[-1]
        outcome = {"wall": wall, "peak_mb": 0.0, "base_mb": 0.0, "error": reason[:200], "outcomes": {}}
    outcome.update(calls)
    outcome["requests"] = stats["requests"]
    outcome["503s"] = stats.get("status_503", 0)
    return outcome


@dataclass(frozen=True)
class Minimum:
    """The fewest requests the protocol allows for a run: lookups and writes, 50 commands a request."""

    lookups: int
    reads: int
    writes: int

    @property
    def requests(self) -> int:
        return math.ceil((self.lookups + self.reads) / BATCH) + math.ceil(self.writes / BATCH)

    def explain(self) -> str:
        return (
            f"{self.lookups:,} lookup + {self.reads:,} read commands -> "
            f"{math.ceil((self.lookups + self.reads) / BATCH):,} requests; "
            f"{self.writes:,} writes -> {math.ceil(self.writes / BATCH):,} requests"
        )


def import_minimum(shape: Shape) -> Minimum:
    """Into an empty portal: every e-mail and phone checked (findbycomm, 20 values a command), every
    company by INN and by name (one list command each), then each contact and company written once."""
    lookups = math.ceil(shape.emails / FINDBYCOMM_VALUES) + math.ceil(shape.phones / FINDBYCOMM_VALUES)
    return Minimum(lookups + shape.inns + shape.titles, 0, shape.people + shape.companies)


def rerun_minimum(shape: Shape) -> Minimum:
    """Everything linked: each contact read (50 ids a list command) to see drift, each company found
    again (by INN, or by name when it has none); writes only for the rows that changed."""
    return Minimum(shape.companies, math.ceil(shape.people / BATCH), shape.changed)


def row(name: str, o: dict[str, Any]) -> str:
    head = f"  {name:<34}{o['requests']:>9,}{o['503s']:>6}{o.get('commands', 0):>10,}{o.get('writes', 0):>9,}"
    if "error" in o:
        return f"{head}   FAILED: {o['error']}"
    outcomes = ", ".join(f"{k} {v:,}" for k, v in o["outcomes"].items())
    companies = o.get("companies created")
    extra = f", companies created {companies:,}" if companies else ""
    return f"{head}{o['wall']:>10.1f}s{o['peak_mb']:>8.0f} MB   {outcomes}{extra}; its CPU {o['cpu']:.0f} s"


def describe(shape: Shape) -> str:
    bad = ", ".join(f"{k} {v}" for k, v in sorted(shape.bad_kinds.items()))
    return (
        f"{shape.rows:,} rows: {shape.people:,} people ({shape.emails:,} e-mails, {shape.phones:,} phones), "
        f"{shape.duplicates:,} repeated, {shape.bad:,} bad ({bad}); {shape.companies:,} companies "
        f"({shape.inns:,} with INN)"
    )


def check(label: str, ok: bool, text: str) -> str:
    return f"  [{'ok' if ok else 'MISSED'}] {label}: {text}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=50_000, help="rows of the b24kit runs")
    parser.add_argument(
        "--naive-rows", type=int, default=1_000, help="rows of the side-by-side sample (0: skip)"
    )
    parser.add_argument("--changed", type=float, default=0.01, help="share of people changed in the last run")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument(
        "--limits", choices=("cloud", "off"), default="cloud", help="off: no bucket, no pacing (quick checks)"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also print the commands of each run by method"
    )
    parser.add_argument("--child", choices=tuple(RUNNERS), help=argparse.SUPPRESS)
    for hidden in ("--url", "--book", "--state", "--report", "--result"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="b24kit-bench-") as tmp, emulator() as url:
        work = Path(tmp)
        admin = Admin(url)
        print("writing workbooks...", file=sys.stderr, flush=True)
        sample = write_workbook(work / "sample.xlsx", args.naive_rows, args.seed) if args.naive_rows else None
        shape = write_workbook(work / "contacts.xlsx", args.rows, args.seed)
        changed = write_workbook(work / "changed.xlsx", args.rows, args.seed, args.changed)
        results: dict[str, dict[str, Any]] = {}
        if sample is not None:
            for approach in ("naive", "b24kit"):
                print(f"{approach} on the {args.naive_rows:,}-row sample...", file=sys.stderr, flush=True)
                admin.fresh_portal()
                state = f"sqlite:///{work}/sample-{approach}.db"
                results[f"{approach}, sample"] = measure(
                    admin, approach, work / "sample.xlsx", state, work, args.limits
                )
        state = f"sqlite:///{work}/state.db"
        admin.fresh_portal()
        runs = (("import", "contacts.xlsx"), ("again, nothing changed", "contacts.xlsx"),
                (f"{args.changed:.0%} of people changed", "changed.xlsx"))  # fmt: skip
        for label, book in runs:
            print(f"b24kit {label} ({args.rows:,} rows)...", file=sys.stderr, flush=True)
            results[f"b24kit {label}"] = measure(admin, "b24kit", work / book, state, work, args.limits)
        portal = admin.count("contact"), admin.count("company")
        lines = report(args, sample, shape, changed, results, portal)
    print("\n".join(lines))


def report(
    args: argparse.Namespace,
    sample: Shape | None,
    shape: Shape,
    changed: Shape,
    results: dict[str, dict[str, Any]],
    portal: tuple[int, int],
) -> list[str]:
    limits = "cloud limits: burst 50, then 2 requests/s" if args.limits == "cloud" else "rate limit OFF"
    head = f"  {'run':<34}{'requests':>9}{'503s':>6}{'commands':>10}{'writes':>9}{'wall':>11}{'peak RSS':>11}"
    lines = ["", f"S22: Excel contacts into the portal (b24kit emulator, {limits})", head]
    if sample is not None:
        lines += sample_lines(args.rows, sample, results)
    lines.append(f"  full: {describe(shape)}")
    names = [n for n in results if n.startswith("b24kit ") and "sample" not in n]
    lines += [row(n, results[n]) for n in names]
    if args.verbose:
        lines += [f"    {n}: {r.get('methods')} {r.get('engine calls', '')}" for n, r in results.items()]
    least, rerun, touched = import_minimum(shape), rerun_minimum(shape), rerun_minimum(changed)
    lines += [
        "  minimum the protocol allows for the valid rows (lookups and writes 50 commands a request,",
        "  findbycomm 20 values a command, other lookups one value a command); each run also spends",
        "  4 requests reading both entities' fields and stages (preflight), which it leaves out:",
        f"    import: {least.explain()} = {least.requests:,}",
        f"    again:  {rerun.explain()} = {rerun.requests:,}",
        f"    {args.changed:.0%} changed: {touched.explain()} = {touched.requests:,}",
        "  targets:",
    ]
    return lines + target_lines(shape, changed, [results[n] for n in names], (least, rerun, touched), portal)


def sample_lines(rows_full: int, sample: Shape, results: dict[str, dict[str, Any]]) -> list[str]:
    naive, ours = results["naive, sample"], results["b24kit, sample"]
    rows = max(sample.rows, 1)
    scale = rows_full / rows
    return [
        f"  sample: {describe(sample)}",
        row("naive, sample", naive),
        row("b24kit, sample", ours),
        f"  per row: naive {naive['requests'] / rows:.2f} requests, {naive['wall'] / rows:.2f} s; "
        f"b24kit {ours['requests'] / rows:.3f} requests, {ours['wall'] / rows:.3f} s",
        f"  naive for all {rows_full:,} rows, EXTRAPOLATED from its {rows:,}-row sample: "
        f"~{naive['requests'] * scale:,.0f} requests, ~{naive['wall'] * scale / 3600:.1f} hours",
    ]


def target_lines(
    shape: Shape,
    changed: Shape,
    runs: list[dict[str, Any]],
    minimums: tuple[Minimum, Minimum, Minimum],
    portal: tuple[int, int],
) -> list[str]:
    first, again, last = runs
    least, rerun, touched = minimums
    over = (first["requests"] / max(least.requests, 1) - 1) * 100
    peak = max(r["peak_mb"] for r in runs)
    share = last["writes"] / max(first["writes"], 1) * 100
    requests = (
        f"import {first['requests']:,} vs minimum {least.requests:,} ({over:+.1f}%, target <= +5%); "
        f"again {again['requests']:,} vs {rerun.requests:,}; "
        f"changed {last['requests']:,} vs {touched.requests:,}"
    )
    writes = (
        f"{last['writes']:,} writes for {changed.changed:,} people changed "
        f"({share:.2f}% of the import's {first['writes']:,} writes)"
    )
    contacts, companies = portal
    expected = (shape.people, shape.companies + shape.extra_companies)
    held = (
        f"{contacts:,} contacts (expected {shape.people:,}), {companies:,} companies (expected "
        f"{shape.companies:,}, plus {shape.extra_companies} named only by rows that then failed)"
    )
    return [
        check("requests", over <= 5, requests),
        check("memory", peak < 300, f"peak RSS {peak:.0f} MB of the b24kit runs (target < 300 MB)"),
        check("nothing changed", again["writes"] == 0, f"{again['writes']} write calls (target 0)"),
        check("1% changed", abs(last["writes"] - changed.changed) <= max(1, changed.changed // 20), writes),
        check("portal", (contacts, companies) == expected, held),
    ]


if __name__ == "__main__":
    main()

"""Webhook ingestion benchmark: signed Stripe deliveries against the real stack.

Run from the repository root:

    .venv/bin/python bench/webhooks.py          # 5000 deliveries, 16 clients, 10 % duplicates
    .venv/bin/python bench/webhooks.py --help

What it does, in order:

1. Drops and recreates a PostgreSQL database of its own (``--db-name``, default paydesk_bench, on
   127.0.0.1:5432 as user postgres) and migrates it; flushes a Redis database of its own
   (``--redis-db``, default 5, on 127.0.0.1:6379).
2. Starts the app under uvicorn (``helpdesk.asgi:application``, uvloop + httptools, no access
   log): ``--servers`` processes behind one port with ``uvicorn --workers`` (``--server-mode
   workers``, the default: about 10 % faster than the other shape as the app is today, see
   docs/benchmarks.md) or one process per port (``--server-mode ports``, the Procfile's shape),
   with DB_CONN_MAX_AGE=0 as in the Procfile; and one real Celery worker (``--concurrency 2``) on
   the same database and Redis.
3. Builds a stream of Stripe events from the recorded samples in /work/shared/payloads/stripe:
   payments follow small scenarios (declined, declined then recovered, disputed, refunded,
   invoice failed, checkout), every id rewritten per payment (pi_, ch_, cus_, dp_, re_, …) and per
   event (evt_), ``created`` increasing along each scenario. Events of nearby payments are shuffled
   together, so events of one payment arrive out of order and close in time (both workers contend
   for the same payment lock). ``--duplicates`` of the deliveries are re-sends of the exact same
   body: half of them right behind the original (concurrent with it), half later in the run.
   Every delivery is signed at send time with the bench secret (Stripe-Signature, v1 HMAC).
4. Warms up (``--warmup`` deliveries of their own payments, not counted, and waits until the
   worker has processed them), then sends the stream from ``--clients`` concurrent clients
   (each a keep-alive HTTP/1.1 connection per server port, round-robin over the ports), as fast
   as answers come (closed loop) or at ``--rate`` deliveries/s (open loop), recording per
   delivery the wall-clock send time and the time to the answer (in an open loop, from the
   time the delivery was due, so a delivery that waited for a free client counts the wait).
5. Waits until every accepted event is processed (``--drain-timeout``), then reads the webhook
   events, payments, tickets and timeline entries from PostgreSQL and checks them.
6. Stops everything it started (servers, worker) whatever happens, prints a summary and, as its
   last line, one JSON object.

Figures (JSON keys):

* ``events_per_s``: deliveries answered 2xx per second of the measured send phase (duplicates
  included: each is a request the endpoint must verify, store and answer).
* ``p50_ms`` / ``p99_ms``: time from sending a delivery to its answer, at the client.
* ``e2e_p50_ms`` / ``e2e_p99_ms``: for every distinct event, ``WebhookEvent.processed_at`` (set by
  the worker in the transaction that applies the event) minus the wall-clock time its first
  delivery was sent. Same machine, same clock; both are UTC epochs (timestamptz vs time.time()).
  With a closed loop the endpoint accepts faster than the worker applies, so e2e includes the
  queue backlog; ``--rate`` measures e2e at a given sustained rate.
* ``processed_per_s``: distinct events applied per second, from the first send to the last
  ``processed_at``.

Definitions of the checks:

* **lost**: a distinct event id with at least one delivery answered 2xx whose WebhookEvent row is
  missing, or whose outcome is still not ``processed``/``ignored`` once the drain is over. (A 2xx
  promises the provider the event is ours; it will never be sent again.)
* **doubled**: the number of times an effect was applied more than once:
  (a) a webhook event on more than one timeline entry (the sum of count - 1 per event),
  (b) a payment (a scenario, whatever Payment rows its events landed on) with more than one ticket
  for the same reason (sum of count - 1 per payment and reason),
  (c) a payment with more than one "Payment recovered" entry (sum of count - 1).
* Reported beside them, not counted in either: ``non_2xx`` (deliveries answered otherwise or not
  answered: a provider retries those; ``non_2xx_answers`` holds the five commonest answers or
  errors), ``deliveries_mismatch`` (events whose
  WebhookEvent.deliveries differs from the number of deliveries answered 2xx), ``failed`` and
  ``retried`` (events whose processing failed at least once: outcome failed or attempts > 1),
  ``tickets_missing`` (a payment whose events call for a ticket reason, with no such ticket),
  ``payments_split`` (a payment whose events landed on more than one Payment row).

Only 127.0.0.1 is contacted. The database is left in place after the run for inspection; the
next run drops it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on the path, and its queue.py would stand in for
# the standard library's queue module (psycopg imports it). The repository root takes its place.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import redis
import stripe

# Run as a script, this folder comes first on the path; the repository root must too.
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CLK_TCK,
    HOST,
    background_load,
    check_bench_arguments,
    cpu_seconds,
    free_ports,
    machine_busy_seconds,
    percentile,
    recreate_database,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAYLOADS = ROOT.parent / "shared" / "payloads" / "stripe"
PYTHON = sys.executable
BENCH_SECRET = "whsec_paydesk_bench_0123456789abcdef"

# Scenario name -> the recorded events of one payment, in the order they happen.
SCENARIOS: dict[str, tuple[str, ...]] = {
    "declined": ("payment_intent.payment_failed", "charge.failed"),
    "recovered": ("payment_intent.payment_failed", "charge.failed", "payment_intent.succeeded"),
    "disputed": ("payment_intent.succeeded", "charge.dispute.created"),
    "refunded": ("payment_intent.succeeded", "charge.refunded", "charge.refund.updated"),
    "invoice_failed": (
        "invoice.payment_action_required",
        "payment_intent.requires_action",
        "invoice.payment_failed",
        "payment_intent.payment_failed",
    ),
    "checkout": ("checkout.session.completed", "payment_intent.succeeded"),
}
SCENARIO_WEIGHTS = {
    "declined": 30,
    "recovered": 20,
    "disputed": 10,
    "refunded": 15,
    "invoice_failed": 10,
    "checkout": 15,
}
# Which ticket reason an event type calls for (the rules in payments/rules.py).
TICKET_REASON = {
    "payment_intent.payment_failed": "payment_failed",
    "charge.failed": "payment_failed",
    "invoice.payment_failed": "payment_failed",
    "charge.dispute.created": "dispute",
}
ZEROED_ID = re.compile(r'"([a-z]+(?:_test)?)_0{10,}"')
PAYMENT_REF = re.compile(r"^(?:pi|ch)_([wm])(\d+)$")
SAMPLE_EMAIL = "stripe@example.com"
DONE_OUTCOMES = ("processed", "ignored")


# Event stream ----------------------------------------------------------------------------------
@dataclass
class Delivery:
    event_id: str
    body: bytes
    payload: str  # body as text, what Stripe signs
    payment: int
    duplicate: bool = False


@dataclass
class Stream:
    deliveries: list[Delivery]
    reasons: dict[int, set[str]]  # payment -> ticket reasons its events call for
    recovered: set[int]  # payments that failed, then succeeded
    scenarios: Counter


def load_templates(payloads: Path) -> dict[str, str]:
    names = {name for events in SCENARIOS.values() for name in events}
    return {name: (payloads / f"{name}.json").read_text() for name in names}


def make_event(template: str, *, tag: str, payment: int, event_id: str, created: int) -> bytes:
    """A recorded event with the ids of one payment, its own event id and its own time."""

    def rewrite(match: re.Match[str]) -> str:
        prefix = match.group(1)
        if prefix == "evt":
            return f'"{event_id}"'
        if prefix == "acct":
            return match.group(0)
        return f'"{prefix}_{tag}{payment:012d}"'

    text = ZEROED_ID.sub(rewrite, template).replace(SAMPLE_EMAIL, f"c{tag}{payment}@example.com")
    event = json.loads(text)
    event["created"] = created
    return json.dumps(event, indent=2).encode()


def build_stream(
    templates: dict[str, str],
    *,
    total: int,
    duplicates: float,
    clients: int,
    tag: str,
    rng: random.Random,
) -> Stream:
    distinct = max(1, total - round(total * duplicates))
    names = list(SCENARIO_WEIGHTS)
    weights = [SCENARIO_WEIGHTS[name] for name in names]
    base_time = int(time.time()) - 86_400
    events: list[tuple[float, Delivery]] = []
    reasons: dict[int, set[str]] = defaultdict(set)
    recovered: set[int] = set()
    scenarios: Counter = Counter()
    payment = 0
    while len(events) < distinct:
        scenario = rng.choices(names, weights)[0]
        types = SCENARIOS[scenario][: distinct - len(events)]
        scenarios[scenario] += 1
        for step, event_type in enumerate(types):
            event_id = f"evt_{tag}{len(events):023d}"
            body = make_event(
                templates[event_type],
                tag=tag,
                payment=payment,
                event_id=event_id,
                created=base_time + payment * 10 + step * 60,
            )
            # Nearby payments are mixed: out of order, and close together.
            key = payment + rng.uniform(0, 6)
            events.append((key, Delivery(event_id, body, body.decode(), payment)))
            if event_type in TICKET_REASON:
                reasons[payment].add(TICKET_REASON[event_type])
        if scenario == "recovered" and len(types) == len(SCENARIOS[scenario]):
            recovered.add(payment)
        payment += 1
    events.sort(key=lambda item: item[0])
    ordered = [(float(index), delivery) for index, (_, delivery) in enumerate(events)]
    extra = total - distinct
    originals = rng.sample(ordered, extra) if extra <= distinct else rng.choices(ordered, k=extra)
    for position, original in originals:
        # Half in flight with the original, half later (like a provider retry).
        near = rng.random() < 0.5
        offset = rng.randint(1, 2 * clients) if near else rng.randint(1, distinct)
        copy = Delivery(original.event_id, original.body, original.payload, original.payment, True)
        ordered.append((position + offset + 0.5, copy))
    ordered.sort(key=lambda item: item[0])
    return Stream([delivery for _, delivery in ordered], dict(reasons), recovered, scenarios)


def sign(payload: str, secret: str) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=int(time.time())
    )


# Load ------------------------------------------------------------------------------------------
@dataclass
class Results:
    sent_at: list[float]  # wall clock (epoch s) when the request was sent
    latency: list[float]  # seconds to the answer
    status: list[int]  # HTTP status, 0 = no answer
    started: float = 0.0
    finished: float = 0.0
    errors: Counter = field(default_factory=Counter)

    @classmethod
    def sized(cls, n: int) -> Results:
        return cls([0.0] * n, [0.0] * n, [-1] * n)


class HTTPConnection:
    """One keep-alive HTTP/1.1 connection that POSTs and reads the answer, and nothing else.

    The load generator shares the machine's two cores with what it measures: httpx cost about
    1.6 ms of CPU per delivery (0.3 cores at 190 deliveries/s), this about a tenth of that.
    """

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        try:
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            async with asyncio.timeout(self.timeout):
                head = await self.reader.readuntil(b"\r\n\r\n")
                status, length, close = self._parse_head(head)
                answer = await self.reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, answer

    @staticmethod
    def _parse_head(head: bytes) -> tuple[int, int, bool]:
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" not in fields:
            raise ValueError(f"answer without Content-Length: {status_line}")
        close = fields.get("connection", "").lower() == "close"
        return int(status_line.split()[1]), int(fields["content-length"]), close

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def send_all(
    deliveries: list[Delivery],
    urls: list[str],
    *,
    clients: int,
    rate: float,
    deadline: float,
    secret: str,
) -> Results:
    results = Results.sized(len(deliveries))
    queue = iter(range(len(deliveries)))

    async def client_loop() -> None:
        connections = [HTTPConnection(url, timeout=30.0) for url in urls]
        try:
            for index in queue:
                if time.monotonic() > deadline:
                    return
                start = time.perf_counter()
                if rate:
                    # Timed from when the delivery was due, so a delivery that waited for a
                    # free client counts its wait (no coordinated omission).
                    due = results.started + index / rate
                    if due > start:
                        await asyncio.sleep(due - start)
                    start = due
                delivery = deliveries[index]
                headers = {
                    "Content-Type": "application/json",
                    "Stripe-Signature": sign(delivery.payload, secret),
                }
                results.sent_at[index] = time.time() - (time.perf_counter() - start)
                try:
                    status, answer = await connections[index % len(urls)].post(
                        delivery.body, headers
                    )
                    results.status[index] = status
                    if status >= 300:
                        results.errors[f"{status} {answer[:120].decode(errors='replace')}"] += 1
                except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError) as exc:
                    results.status[index] = 0
                    results.errors[f"{type(exc).__name__}: {exc}"[:160]] += 1
                results.latency[index] = time.perf_counter() - start
        finally:
            for connection in connections:
                connection.close()

    results.started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    results.finished = time.perf_counter()
    return results


def run_load(deliveries: list[Delivery], urls: list[str], **kwargs: Any) -> Results:
    try:
        import uvloop

        return uvloop.run(send_all(deliveries, urls, **kwargs))
    except ImportError:
        return asyncio.run(send_all(deliveries, urls, **kwargs))


# Processes -------------------------------------------------------------------------------------
class Processes:
    """The processes this run started; each is stopped by its own id (its process group)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.started:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.log_dir}")

    def stop_all(self) -> None:
        # The main process only: uvicorn's supervisor and Celery's main process stop their
        # children themselves (a SIGTERM to a pool child makes Celery report a lost worker).
        for _, proc in self.started:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, proc in self.started:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def log_problems(self) -> Counter:
        problems: Counter = Counter()
        for path in self.log_dir.glob("*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if "Traceback" in line or " ERROR" in line or "CRITICAL" in line:
                    problems[path.stem] += 1
        return problems


UVICORN = [PYTHON, "-m", "uvicorn", "helpdesk.asgi:application", "--host", HOST,
           "--loop", "uvloop", "--http", "httptools", "--no-access-log",
           "--log-level", "warning", "--lifespan", "off"]  # fmt: skip


def start_servers(
    args: argparse.Namespace, procs: Processes, env: dict[str, str]
) -> tuple[list[int], list[subprocess.Popen]]:
    """Start the web servers; return their ports and processes."""
    if args.server_mode == "ports":  # the Procfile's shape: one uvicorn per port
        ports = free_ports(args.base_port, args.servers)
        servers = [
            procs.start(f"uvicorn-{port}", [*UVICORN, "--port", str(port)], env) for port in ports
        ]
        return ports, servers
    port = free_ports(args.base_port, 1)[0]
    if args.server_mode == "workers":  # one port, uvicorn's supervisor and its workers
        command = [*UVICORN, "--port", str(port), "--workers", str(args.servers)]
        return [port], [procs.start(f"uvicorn-{port}", command, env)]
    # wsgi: a comparison point, not the deployment: gunicorn gthread workers (keep-alive)
    command = [PYTHON, "-m", "gunicorn", args.wsgi_app, "--bind", f"{HOST}:{port}",
               "--workers", str(args.servers), "--worker-class", "gthread",
               "--threads", str(args.wsgi_threads), "--keep-alive", "30",
               "--log-level", "warning"]  # fmt: skip
    return [port], [procs.start(f"gunicorn-{port}", command, env)]


def wait_http_ready(url: str, procs: Processes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


# CPU accounting (from /proc: our children, the machine) ---------------------------------------


def _stat(pid: int) -> tuple[str, int, list[int]]:
    """(command, parent pid, [utime, stime, cutime, cstime]) of a process."""
    text = Path(f"/proc/{pid}/stat").read_text()
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    return comm, int(fields[1]), [int(x) for x in fields[11:15]]


def service_cpu_seconds(command: str) -> float:
    """CPU time of a service by command name, finished children included: a PostgreSQL backend
    that exits is counted in its postmaster's cutime/cstime."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                procs[int(entry.name)] = _stat(int(entry.name))
    total = 0
    for comm, ppid, times in procs.values():
        if comm != command:
            continue
        parent_is_same = ppid in procs and procs[ppid][0] == command
        total += sum(times[:2]) + (0 if parent_is_same else sum(times[2:]))
    return total / CLK_TCK


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    snap = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}
    snap["postgresql"] = service_cpu_seconds("postgres")
    snap["redis"] = service_cpu_seconds("redis-server")
    own = os.times()
    snap["load generator"] = own.user + own.system
    snap["machine"] = machine_busy_seconds()
    return snap


def cpu_share(
    before: dict[str, float], after: dict[str, float], seconds: float
) -> dict[str, float]:
    """Cores used by each part over an interval; 'other' is the rest of the machine (kernel,
    other programs)."""
    used = {name: (after[name] - before[name]) / seconds for name in before}
    used["other"] = used["machine"] - sum(
        value for name, value in used.items() if name != "machine"
    )
    return {name: round(value, 2) for name, value in used.items()}


# Database --------------------------------------------------------------------------------------
def versions(db_url: str, redis_url: str) -> dict[str, str]:
    with psycopg.connect(db_url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    info = redis.Redis.from_url(redis_url).info("server")
    return {"postgresql": pg, "redis": info["redis_version"]}


def sessions_opened(conn: psycopg.Connection, db_name: str) -> int:
    row = conn.execute(
        "SELECT sessions FROM pg_stat_database WHERE datname = %s", (db_name,)
    ).fetchone()
    return int(row[0]) if row else 0


def count_done(conn: psycopg.Connection, tag: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM payments_webhookevent WHERE event_id LIKE %s AND outcome = ANY(%s)",
        (f"evt\\_{tag}%", list(DONE_OUTCOMES)),
    ).fetchone()
    return int(row[0])


def wait_processed(
    conn: psycopg.Connection, tag: str, expected: int, timeout: float, procs: Processes
) -> tuple[bool, float]:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if count_done(conn, tag) >= expected:
            return True, time.monotonic() - start
        procs.check_alive()
        time.sleep(0.25)
    return False, time.monotonic() - start


@dataclass
class Checks:
    lost: int = 0
    lost_missing: int = 0
    lost_unprocessed: int = 0
    doubled: int = 0
    doubled_entries: int = 0
    doubled_tickets: int = 0
    doubled_recoveries: int = 0
    deliveries_mismatch: int = 0
    failed: int = 0
    retried: int = 0
    tickets_missing: int = 0
    recoveries_missing: int = 0
    payments_split: int = 0
    tickets: int = 0
    e2e_ms: list[float] = field(default_factory=list)
    last_processed_at: float = 0.0


def check(conn: psycopg.Connection, stream: Stream, results: Results, tag: str) -> Checks:
    out = Checks()
    first_sent: dict[str, float] = {}
    ok_deliveries: Counter = Counter()
    for index, delivery in enumerate(stream.deliveries):
        if results.status[index] == -1:
            continue  # never sent (deadline)
        sent = results.sent_at[index]
        first_sent[delivery.event_id] = min(first_sent.get(delivery.event_id, sent), sent)
        if 200 <= results.status[index] < 300:
            ok_deliveries[delivery.event_id] += 1

    rows = conn.execute(
        "SELECT event_id, outcome, attempts, deliveries, extract(epoch FROM processed_at) "
        "FROM payments_webhookevent WHERE event_id LIKE %s",
        (f"evt\\_{tag}%",),
    ).fetchall()
    stored = {row[0]: row for row in rows}
    for event_id, ok in ok_deliveries.items():
        row = stored.get(event_id)
        if row is None:
            out.lost_missing += 1
            continue
        _, outcome, attempts, deliveries, processed_at = row
        if outcome not in DONE_OUTCOMES:
            out.lost_unprocessed += 1
        if deliveries != ok:
            out.deliveries_mismatch += 1
        if processed_at is not None:
            out.e2e_ms.append((float(processed_at) - first_sent[event_id]) * 1000)
            out.last_processed_at = max(out.last_processed_at, float(processed_at))
    for _, outcome, attempts, _, _ in rows:
        out.failed += outcome == "failed"
        out.retried += attempts > 1
    out.lost = out.lost_missing + out.lost_unprocessed

    # (a) one event, several timeline entries
    row = conn.execute(
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM tickets_timelineentry "
        "WHERE webhook_event_id IS NOT NULL GROUP BY webhook_event_id HAVING count(*) > 1) AS d"
    ).fetchone()
    out.doubled_entries = int(row[0])

    # Payment rows -> the bench payment (scenario) they belong to.
    payment_of: dict[int, int] = {}
    rows_per_payment: Counter = Counter()
    for pk, payment_id, charge_id in conn.execute(
        "SELECT id, provider_payment_id, provider_charge_id FROM payments_payment"
    ):
        for ref in (payment_id, charge_id):
            match = PAYMENT_REF.match(ref or "")
            if match and match.group(1) == tag:
                payment_of[pk] = int(match.group(2))
                rows_per_payment[int(match.group(2))] += 1
                break
    out.payments_split = sum(1 for n in rows_per_payment.values() if n > 1)

    # (b) one payment, several tickets for one reason
    tickets: dict[tuple[int, str], set[int]] = defaultdict(set)
    for ticket_id, reason, payment_pk in conn.execute(
        "SELECT t.id, t.reason, tp.payment_id FROM tickets_ticket t "
        "JOIN tickets_ticket_payments tp ON tp.ticket_id = t.id"
    ):
        if payment_pk in payment_of:
            tickets[(payment_of[payment_pk], reason)].add(ticket_id)
    out.tickets = len({t for ids in tickets.values() for t in ids})
    out.doubled_tickets = sum(len(ids) - 1 for ids in tickets.values() if len(ids) > 1)
    answered = {stream.deliveries[i].payment for i, s in enumerate(results.status) if s >= 200}
    for payment, reasons in stream.reasons.items():
        if payment in answered:
            out.tickets_missing += sum(not tickets.get((payment, reason)) for reason in reasons)

    # (c) one payment recovered twice
    recoveries: Counter = Counter()
    for (payment_pk,) in conn.execute(
        "SELECT tp.payment_id FROM tickets_timelineentry e "
        "JOIN tickets_ticket_payments tp ON tp.ticket_id = e.ticket_id "
        "WHERE e.body LIKE 'Payment recovered%'"
    ):
        if payment_pk in payment_of:
            recoveries[payment_of[payment_pk]] += 1
    out.doubled_recoveries = sum(n - 1 for n in recoveries.values() if n > 1)
    recovered_rows = {
        payment_of[pk]
        for (pk,) in conn.execute("SELECT id FROM payments_payment WHERE recovered_at IS NOT NULL")
        if pk in payment_of
    }
    out.recoveries_missing = len(stream.recovered - recovered_rows)
    out.doubled = out.doubled_entries + out.doubled_tickets + out.doubled_recoveries
    return out


# Report ----------------------------------------------------------------------------------------
def ms(value: float) -> float | None:
    return None if value != value else round(value, 1)  # NaN (no samples) -> null


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add = parser.add_argument
    add("--events", type=int, default=5000, help="deliveries to send, duplicates included")
    add("--clients", type=int, default=16, help="concurrent HTTP clients")
    add("--duplicates", type=float, default=0.1, help="fraction of deliveries that are re-sends")
    add("--servers", type=int, default=2, help="web server processes")
    add(
        "--server-mode",
        choices=("workers", "ports", "wsgi"),
        default="ports",
        help="workers: one port, uvicorn --workers; ports: one uvicorn per port (Procfile); "
        "wsgi: gunicorn gthread on --wsgi-app, for comparison",
    )
    add("--wsgi-app", default="helpdesk.wsgi:application", help="WSGI app of --server-mode wsgi")
    add("--wsgi-threads", type=int, default=4, help="threads per gunicorn worker (wsgi mode)")
    add("--rate", type=float, default=0.0, help="deliveries/s (open loop); 0 = as fast as answered")
    add("--warmup", type=int, default=300, help="deliveries sent first and not counted")
    add("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    add(
        "--server-conn-max-age",
        type=int,
        default=0,
        help="DB_CONN_MAX_AGE of the web servers (the Procfile sets 0)",
    )
    add("--db-name", default="paydesk_bench", help="PostgreSQL database, dropped and recreated")
    add("--redis-db", type=int, default=5, help="Redis database number, flushed")
    add("--base-port", type=int, default=8101, help="first port to try for the servers")
    add("--payloads", type=Path, default=DEFAULT_PAYLOADS, help="recorded Stripe events")
    add("--seed", type=int, default=1, help="random seed of the event stream")
    add("--drain-timeout", type=float, default=300, help="seconds to wait for processing")
    add("--max-seconds", type=float, default=900, help="stop sending after this many seconds")
    add("--json-out", type=Path, help="also write the JSON result to this file")
    add(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the servers and the worker (repeatable), to try a variant",
    )
    args = parser.parse_args(argv)
    check_bench_arguments(parser, args)
    if not 0 <= args.duplicates < 1:
        parser.error("--duplicates must be in [0, 1)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    deadline = started + args.max_seconds
    db_url = f"postgres://postgres@127.0.0.1:5432/{args.db_name}"
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    log_dir = Path(tempfile.mkdtemp(prefix="paydesk-bench-"))
    rng = random.Random(args.seed)

    templates = load_templates(args.payloads)
    warm = build_stream(
        templates,
        total=args.warmup,
        duplicates=args.duplicates,
        clients=args.clients,
        tag="w",
        rng=rng,
    )
    stream = build_stream(
        templates,
        total=args.events,
        duplicates=args.duplicates,
        clients=args.clients,
        tag="m",
        rng=rng,
    )
    distinct = len({d.event_id for d in stream.deliveries})

    print(f"[bench] database {args.db_name}, Redis db {args.redis_db}, logs in {log_dir}")
    background_cores = background_load()
    recreate_database(args.db_name)
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))},
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "STRIPE_WEBHOOK_SECRETS": BENCH_SECRET,
        "DEBUG": "0",
        "SECRET_KEY": "paydesk-bench-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **dict(item.split("=", 1) for item in args.env),
    }
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    service_versions = versions(db_url, redis_url)

    procs = Processes(log_dir)
    try:
        server_env = {**env, "DB_CONN_MAX_AGE": str(args.server_conn_max_age)}
        ports, servers = start_servers(args, procs, server_env)
        worker = procs.start(
            "celery-worker",
            [PYTHON, "-m", "celery", "-A", "helpdesk", "worker",
             "--concurrency", str(args.worker_concurrency), "-l", "warning",
             "--without-gossip", "--without-mingle", "-n", f"bench-{os.getpid()}@%h"],
            env,
        )  # fmt: skip
        for port in ports:
            wait_http_ready(f"http://{HOST}:{port}/healthz", procs)
        urls = [f"http://{HOST}:{port}/webhooks/stripe/" for port in ports]
        groups = {"web servers": [p.pid for p in servers], "celery worker": [worker.pid]}

        conn = psycopg.connect(db_url, autocommit=True)
        print(f"[bench] warm-up: {len(warm.deliveries)} deliveries")
        warm_results = run_load(
            warm.deliveries,
            urls,
            clients=args.clients,
            rate=0.0,
            deadline=deadline,
            secret=BENCH_SECRET,
        )
        warm_ok = len(
            {
                d.event_id
                for d, s in zip(warm.deliveries, warm_results.status, strict=True)
                if 200 <= s < 300
            }
        )
        done, _ = wait_processed(conn, "w", warm_ok, 120, procs)
        if not done:
            raise RuntimeError(f"warm-up events not processed in 120 s; see {log_dir}")

        sessions_before = sessions_opened(conn, args.db_name)
        cpu_before = cpu_snapshot(groups)
        print(
            f"[bench] measured: {len(stream.deliveries)} deliveries ({distinct} distinct events, "
            f"{sum(stream.scenarios.values())} payments), {args.clients} clients, "
            f"{len(urls)} port(s), " + (f"{args.rate:g}/s" if args.rate else "closed loop")
        )
        results = run_load(
            stream.deliveries,
            urls,
            clients=args.clients,
            rate=args.rate,
            deadline=deadline,
            secret=BENCH_SECRET,
        )
        send_s = results.finished - results.started
        cpu_after = cpu_snapshot(groups)
        sessions_after = sessions_opened(conn, args.db_name)

        accepted_ids = {
            d.event_id
            for d, s in zip(stream.deliveries, results.status, strict=True)
            if 200 <= s < 300
        }
        print(f"[bench] sent in {send_s:.1f} s; waiting for the worker to apply the events")
        drained, drain_s = wait_processed(
            conn,
            "m",
            len(accepted_ids),
            min(args.drain_timeout, deadline - time.monotonic() + 60),
            procs,
        )
        cpu_drained = cpu_snapshot(groups)
        checks = check(conn, stream, results, "m")
        conn.close()
    finally:
        procs.stop_all()
    problems = procs.log_problems()

    sent = [i for i, s in enumerate(results.status) if s != -1]
    ok = [i for i in sent if 200 <= results.status[i] < 300]
    latencies = [results.latency[i] * 1000 for i in ok]
    first_send_wall = min(results.sent_at[i] for i in sent)
    processing_s = (
        checks.last_processed_at - first_send_wall if checks.last_processed_at else float("nan")
    )
    summary = {
        "bench": "webhooks",
        "events": len(sent),
        "distinct_events": len({stream.deliveries[i].event_id for i in sent}),
        "clients": args.clients,
        "servers": args.servers,
        "server_mode": args.server_mode,
        "rate": args.rate or None,
        "events_per_s": round(len(ok) / send_s, 1),
        "p50_ms": ms(percentile(latencies, 50)),
        "p90_ms": ms(percentile(latencies, 90)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies, default=float("nan"))),
        "e2e_p50_ms": ms(percentile(checks.e2e_ms, 50)),
        "e2e_p99_ms": ms(percentile(checks.e2e_ms, 99)),
        "e2e_max_ms": ms(max(checks.e2e_ms, default=float("nan"))),
        "processed_per_s": ms(len(accepted_ids) / processing_s),
        "drained": drained,
        "lost": checks.lost,
        "doubled": checks.doubled,
        "non_2xx": len(sent) - len(ok),
        "non_2xx_answers": dict(results.errors.most_common(5)),
        "deliveries_mismatch": checks.deliveries_mismatch,
        "failed": checks.failed,
        "retried": checks.retried,
        "tickets": checks.tickets,
        "tickets_missing": checks.tickets_missing,
        "recoveries_missing": checks.recoveries_missing,
        "payments_split": checks.payments_split,
        "db_sessions_per_delivery": round((sessions_after - sessions_before) / len(sent), 2),
        "cpu_cores_send": cpu_share(cpu_before, cpu_after, send_s),
        # None when the worker kept up and there was nothing left to drain.
        "cpu_cores_drain": cpu_share(cpu_after, cpu_drained, drain_s) if drain_s >= 1 else None,
        "env": args.env,
        "background_cores": background_cores,
        "log_problems": dict(problems),
        "versions": service_versions,
    }

    print()
    print(
        f"Webhooks: {summary['events']} deliveries ({summary['distinct_events']} distinct, "
        f"{summary['events'] - summary['distinct_events']} duplicates) from {args.clients} "
        f"clients to {args.servers} uvicorn process(es) ({args.server_mode})"
    )
    print(
        f"  accepted     {summary['events_per_s']:>8} deliveries/s over {send_s:.1f} s; "
        f"non-2xx {summary['non_2xx']}"
    )
    print(
        f"  answer       p50 {summary['p50_ms']} ms, p90 {summary['p90_ms']} ms, "
        f"p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms"
    )
    print(
        f"  applied      {summary['processed_per_s']} events/s; drain after sending "
        f"{drain_s:.1f} s ({'complete' if drained else 'TIMED OUT'})"
    )
    print(
        f"  end to end   p50 {summary['e2e_p50_ms']} ms, p99 {summary['e2e_p99_ms']} ms, "
        f"max {summary['e2e_max_ms']} ms (send -> processed_at)"
    )
    print(
        f"  checks       lost {checks.lost} (missing {checks.lost_missing}, unprocessed "
        f"{checks.lost_unprocessed}), doubled {checks.doubled} (entries "
        f"{checks.doubled_entries}, tickets {checks.doubled_tickets}, recoveries "
        f"{checks.doubled_recoveries})"
    )
    print(
        f"               deliveries mismatch {checks.deliveries_mismatch}, failed "
        f"{checks.failed}, retried {checks.retried}, tickets {checks.tickets} (missing "
        f"{checks.tickets_missing}), recoveries missing {checks.recoveries_missing}, "
        f"payments split {checks.payments_split}"
    )
    print(f"  CPU (cores)  sending: {summary['cpu_cores_send']}")
    print(f"               draining: {summary['cpu_cores_drain']}")
    print(f"  DB sessions  {summary['db_sessions_per_delivery']} per delivery")
    for message, count in results.errors.most_common(5):
        print(f"  error x{count}: {message}")
    if problems:
        print(f"  log problems {dict(problems)} (logs in {log_dir})")
    line = json.dumps(summary)
    if args.json_out:
        args.json_out.write_text(line + "\n")
    print(line)
    return 0 if drained and not checks.lost and not checks.doubled else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())

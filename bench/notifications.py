"""Notification delivery benchmark: 10,000 emails through a real Celery worker on Redis.

Run from the repository root:

    .venv/bin/python bench/notifications.py              # 10,000 emails, enqueued at once
    .venv/bin/python bench/notifications.py --rate 100   # enqueued at 100/s (open loop)
    .venv/bin/python bench/notifications.py --help

What it does, in order:

1. Drops and recreates a PostgreSQL database of its own (``--db-name``, default
   paydesk_bench_notifications, on 127.0.0.1:5432 as user postgres) and migrates it; flushes a
   Redis database of its own (``--redis-db``, default 9, on 127.0.0.1:6379).
2. Starts an SMTP sink (tests/smtp_sink.py: aiosmtpd, in a process of its own on 127.0.0.1)
   that records every message it accepts, and one Celery worker as production runs it (the
   Procfile's ``celery -A helpdesk worker -l info --concurrency 2``: the prefork pool, two
   processes, the settings' connection pool and late acknowledgement) on the same database and
   Redis, its email going to the sink (Django's SMTP backend: one SMTP session per email).
3. Makes ``--tickets`` tickets, each with its customer, and sends ``--warmup`` emails that are not
   counted, waiting until they are sent.
4. Enqueues ``--notifications`` customer emails ("an agent replied", each to its own address) the
   way the application does: ``notifications.services.notify`` in transactions of ``--batch``
   rows, each row's delivery task queued when its transaction commits. All at once by default,
   or at ``--rate`` notifications/s. Every notification is an email: in-app notices cost the
   worker less (no SMTP session, no rendering), and only emails can be checked at a receiver.
5. Waits until every row is sent (or ``--drain-timeout``), then checks the rows and what the
   sink received.
6. Stops the worker and the sink whatever happens, prints a summary and, as its last line, one
   JSON object.

Figures (JSON keys):

* ``tasks_per_s``: notifications sent per second, from the first row written to the last
  ``sent_at``.
* ``p50_ms`` / ``p90_ms`` / ``p99_ms`` / ``max_ms``: ``sent_at - created_at`` of each row: from the
  moment ``notify`` wrote it (its task is queued when the batch commits, at most one batch
  later) to the moment the worker marked it sent, after the sink's 250 answer. Both are set by
  Python on this machine, one clock. Enqueued all at once, this is mostly time in the queue
  behind the others; ``--rate`` measures it at a sustained rate.
* ``enqueue_per_s``: rows written and tasks queued per second by the enqueuing process.
* ``cpu_cores``: cores used by each part from the first enqueue to the end of the drain, from
  /proc ("celery worker" is the whole worker, "celery worker: main" its main process alone;
  "other" is the rest of the machine: the kernel and other programs). ``cpu_ms_per_task``: the
  same CPU time per notification sent, which other load on the machine hardly changes.

Definitions of the checks:

* **lost**: a notification whose row is not ``sent`` when the drain is over, or whose
  Message-ID the sink never received.
* **doubled**: the number of extra copies the sink received: for each Message-ID, the number of
  times it arrived less one.
* Reported beside them: ``unexpected`` (messages at the sink with a Message-ID of no
  notification), ``retried`` (rows that took more than one attempt), the rows by status.

Only 127.0.0.1 is contacted. The database is left in place after the run for inspection; the
next run drops it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on the path: this file would stand in for the
# notifications app, and bench/queue.py for the standard library's queue module.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import json
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from typing import Any

import psycopg
import redis

from bench.common import (
    HOST,
    background_load,
    check_bench_arguments,
    cpu_seconds,
    machine_busy_seconds,
    percentile,
    recreate_database,
    service_cpu_seconds,
)
from bench.webhooks import Processes

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add = parser.add_argument
    add("--notifications", type=int, default=10_000, help="emails to send and measure")
    add("--batch", type=int, default=100, help="notifications written per transaction")
    add("--rate", type=float, default=0.0, help="notifications/s (open loop); 0 = all at once")
    add("--warmup", type=int, default=200, help="emails sent first and not counted")
    add("--tickets", type=int, default=200, help="tickets (and customers) the emails are about")
    add("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    add("--pool", default="prefork", help="Celery pool (prefork, as production)")
    add("--worker-log-level", default="info", help="the worker's -l (the Procfile says info)")
    add("--db-name", default="paydesk_bench_notifications", help="database, dropped and made")
    add("--redis-db", type=int, default=9, help="Redis database number, flushed")
    add("--drain-timeout", type=float, default=300, help="seconds to wait for the last send")
    add("--max-seconds", type=float, default=600, help="stop enqueuing after this many seconds")
    add("--json-out", type=Path, help="also write the JSON result to this file")
    add(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the worker (repeatable), to try a variant",
    )
    args = parser.parse_args(argv)
    check_bench_arguments(parser, args)
    return args


# The SMTP sink, in a process of its own ------------------------------------------------------
def start_sink(procs: Processes, record: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """tests/smtp_sink.py as a program; returns its process and port."""
    port_file = procs.log_dir / "smtp-sink.port"
    with port_file.open("wb") as out:
        sink = subprocess.Popen(
            [PYTHON, "-m", "tests.smtp_sink", "--record", str(record)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    procs.started.append(("smtp-sink", sink))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        procs.check_alive()
        text = port_file.read_text()
        if text.strip().isdigit():
            return sink, int(text)
        time.sleep(0.1)
    raise RuntimeError(f"the SMTP sink did not start; see {procs.log_dir}")


# The application side, in this process --------------------------------------------------------
def setup_django(db_url: str, redis_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        DB_POOL="false",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


def wait_worker_ready(hostname: str, procs: Processes, timeout: float = 60) -> None:
    from helpdesk.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        replies = app.control.ping(timeout=0.5)
        if any(hostname in name for reply in replies for name in reply):
            return
    raise RuntimeError(f"the worker did not answer a ping within {timeout} s")


def make_tickets(count: int) -> list[Any]:
    from tests.factories import TicketFactory

    return [TicketFactory() for _ in range(count)]


def enqueue(
    tickets: list[Any], *, tag: str, count: int, batch: int, rate: float, deadline: float
) -> tuple[int, float]:
    """Write `count` agent-reply emails through notify(), `batch` per transaction; returns how
    many were written and the seconds it took."""
    from django.db import transaction

    from notifications.models import Channel, Kind
    from notifications.services import notify

    started = time.perf_counter()
    written = 0
    while written < count and time.monotonic() < deadline:
        if rate:
            delay = started + written / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        with transaction.atomic():
            for n in range(written, min(written + batch, count)):
                ticket = tickets[n % len(tickets)]
                notify(
                    kind=Kind.AGENT_REPLIED, channel=Channel.EMAIL,
                    subject_ref=f"entry:{tag}-{n}", customer=ticket.customer,
                    email=f"bench-{tag}-{n}@example.com", ticket=ticket,
                    language=ticket.customer.locale,
                    context={"body": f"Reply {n}: your card was declined.", "agent": "Sam"},
                )  # fmt: skip
        written = min(written + batch, count)
    return written, time.perf_counter() - started


def status_counts(tag: str) -> Counter:
    from django.db.models import Count

    from notifications.models import Notification

    rows = (
        Notification.objects.filter(email__startswith=f"bench-{tag}-")
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return Counter(dict(rows))


def wait_drained(tag: str, expected: int, timeout: float, procs: Processes) -> tuple[bool, float]:
    """Until every row of `tag` is sent, failed or skipped."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        counts = status_counts(tag)
        if counts["sent"] + counts["failed"] + counts["skipped"] >= expected:
            return True, time.monotonic() - start
        procs.check_alive()
        time.sleep(0.25)
    return False, time.monotonic() - start


def check(tag: str, received: list[Any]) -> dict[str, Any]:
    from notifications import emails
    from notifications.models import Notification

    rows = list(
        Notification.objects.filter(email__startswith=f"bench-{tag}-").select_related(
            "customer", "ticket"
        )
    )
    expected = {emails.build(row).extra_headers["Message-ID"]: row for row in rows}
    arrived = Counter(message.message_id for message in received)
    lost = {row.pk for row in rows if row.status != "sent"}
    lost |= {row.pk for message_id, row in expected.items() if message_id not in arrived}
    latencies = [
        (row.sent_at - row.created_at).total_seconds() * 1000 for row in rows if row.sent_at
    ]
    return {
        "rows": len(rows),
        "lost": len(lost),
        "doubled": sum(n - 1 for message_id, n in arrived.items() if message_id in expected),
        "unexpected": sum(n for message_id, n in arrived.items() if message_id not in expected),
        "retried": sum(row.attempts > 1 for row in rows),
        "statuses": dict(Counter(row.status for row in rows)),
        "latencies_ms": latencies,
        "first_created": min(row.created_at for row in rows).timestamp(),
        "last_sent": max((row.sent_at for row in rows if row.sent_at), default=None),
    }


# CPU accounting --------------------------------------------------------------------------------
def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    snap = {name: cpu_seconds(pid) for name, pid in groups.items()}
    # Celery's main process (it takes tasks from Redis, hands them to the pool, acknowledges).
    snap["celery worker: main"] = cpu_seconds(groups["celery worker"], descendants=False)
    snap["postgresql"] = service_cpu_seconds("postgres")
    snap["redis"] = service_cpu_seconds("redis-server")
    own = os.times()
    snap["enqueuer"] = own.user + own.system
    snap["machine"] = machine_busy_seconds()
    return snap


def cpu_share(before: dict[str, float], after: dict[str, float], seconds: float) -> dict:
    used = {name: (after[name] - before[name]) / seconds for name in before}
    used["other"] = used["machine"] - sum(
        v for name, v in used.items() if name not in ("machine", "celery worker: main")
    )
    return {name: round(value, 2) for name, value in used.items()}


def cpu_ms_per_task(before: dict[str, float], after: dict[str, float], tasks: int) -> dict:
    """CPU each part spent per notification sent: unlike the throughput, hardly moved by
    other programs on the machine."""
    parts = [name for name in before if name != "machine"]
    return {name: round((after[name] - before[name]) / max(tasks, 1) * 1000, 2) for name in parts}


def ms(value: float) -> float | None:
    return None if value != value else round(value, 1)  # NaN (no samples) -> null


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    deadline = started + args.max_seconds
    db_url = f"postgres://postgres@{HOST}:5432/{args.db_name}"
    redis_url = f"redis://{HOST}:6379/{args.redis_db}"
    log_dir = Path(tempfile.mkdtemp(prefix="paydesk-bench-notifications-"))
    record = log_dir / "smtp-sink.jsonl"
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
        "DEBUG": "0",
        "SECRET_KEY": "paydesk-bench-" + os.urandom(16).hex(),
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    with psycopg.connect(db_url) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(redis_url).info("server")["redis_version"]

    procs = Processes(log_dir)
    drained = False
    try:
        sink, sink_port = start_sink(procs, record, env)
        hostname = f"bench-notifications-{os.getpid()}"
        worker_env = {
            **env,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": str(sink_port),
            **dict(item.split("=", 1) for item in args.env),
        }
        worker = procs.start(
            "celery-worker",
            [PYTHON, "-m", "celery", "-A", "helpdesk", "worker", "--pool", args.pool,
             "--concurrency", str(args.worker_concurrency), "-l", args.worker_log_level,
             "--without-gossip", "--without-mingle", "-n", f"{hostname}@%h"],
            worker_env,
        )  # fmt: skip
        setup_django(db_url, redis_url)
        wait_worker_ready(hostname, procs)
        tickets = make_tickets(args.tickets)

        print(f"[bench] warm-up: {args.warmup} emails")
        warm, _ = enqueue(
            tickets, tag="w", count=args.warmup, batch=args.batch, rate=0, deadline=deadline
        )
        done, _ = wait_drained("w", warm, 120, procs)
        if not done:
            raise RuntimeError(f"warm-up emails not sent in 120 s; see {log_dir}")

        groups = {"celery worker": worker.pid, "smtp sink": sink.pid}
        cpu_before = cpu_snapshot(groups)
        mode = f"{args.rate:g}/s" if args.rate else "all at once"
        print(f"[bench] measured: {args.notifications} emails, batches of {args.batch}, {mode}")
        written, enqueue_s = enqueue(
            tickets, tag="m", count=args.notifications, batch=args.batch, rate=args.rate,
            deadline=deadline,
        )  # fmt: skip
        print(f"[bench] enqueued {written} in {enqueue_s:.1f} s; waiting for the worker")
        drained, drain_s = wait_drained("m", written, args.drain_timeout, procs)
        cpu_after = cpu_snapshot(groups)
        busy_s = enqueue_s + drain_s
    finally:
        procs.stop_all()  # the sink flushes its record on the way out
    received = [m for m in _read_record(record) if "bench-m-" in ",".join(m.to)]
    checks = check("m", received)
    problems = procs.log_problems()

    latencies = checks["latencies_ms"]
    last_sent = checks["last_sent"]
    span_s = last_sent.timestamp() - checks["first_created"] if last_sent else float("nan")
    sent = checks["statuses"].get("sent", 0)
    summary = {
        "bench": "notifications",
        "notifications": written,
        "channel": "email",
        "pool": args.pool,
        "worker_concurrency": args.worker_concurrency,
        "batch": args.batch,
        "rate": args.rate or None,
        "tasks_per_s": round(sent / span_s, 1),
        "enqueue_per_s": round(written / enqueue_s, 1),
        "p50_ms": ms(percentile(latencies, 50)),
        "p90_ms": ms(percentile(latencies, 90)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies, default=float("nan"))),
        "lost": checks["lost"],
        "doubled": checks["doubled"],
        "unexpected": checks["unexpected"],
        "retried": checks["retried"],
        "statuses": checks["statuses"],
        "drained": drained,
        "cpu_cores": cpu_share(cpu_before, cpu_after, busy_s),
        "cpu_ms_per_task": cpu_ms_per_task(cpu_before, cpu_after, sent),
        "background_cores": background_cores,
        "log_problems": dict(problems),
        "versions": {"postgresql": pg_version, "redis": redis_version},
    }

    print()
    print(
        f"Notifications: {written} emails through a Celery worker ({args.pool}, concurrency "
        f"{args.worker_concurrency}) on Redis, to an SMTP sink"
    )
    print(
        f"  sent         {summary['tasks_per_s']:>8} tasks/s over {span_s:.1f} s; enqueued "
        f"{summary['enqueue_per_s']}/s ({mode}); drain {'complete' if drained else 'TIMED OUT'}"
    )
    print(
        f"  enqueue→sent p50 {summary['p50_ms']} ms, p90 {summary['p90_ms']} ms, "
        f"p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms"
    )
    print(
        f"  checks       lost {checks['lost']}, doubled {checks['doubled']}, unexpected "
        f"{checks['unexpected']}, retried {checks['retried']}, rows {checks['statuses']}"
    )
    print(f"  CPU (cores)  {summary['cpu_cores']}")
    print(f"  CPU ms/task  {summary['cpu_ms_per_task']}")
    if problems:
        print(f"  log problems {dict(problems)} (logs in {log_dir})")
    line = json.dumps(summary)
    if args.json_out:
        args.json_out.write_text(line + "\n")
    print(line)
    return 0 if drained and not checks["lost"] and not checks["doubled"] else 1


def _read_record(path: Path) -> list[Any]:
    from tests.smtp_sink import read_record

    return read_record(path) if path.exists() else []


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())

"""Dashboard benchmark: the admin dashboard over 1 000 000 tickets and two years of payments.

Run from the repository root:

    .venv/bin/python bench/dashboard.py              # fill once (a few minutes), then measure
    .venv/bin/python bench/dashboard.py --refill     # throw the data away and fill again
    .venv/bin/python bench/dashboard.py --explain 5  # also EXPLAIN ANALYZE the 5 slowest queries

What it does, in order:

1. Makes sure the PostgreSQL database ``--db-name`` (default paydesk_bench_dashboard, on
   127.0.0.1:5432 as user postgres) exists and is migrated, and that the static files are
   collected (DEBUG is off, the pages link them through the manifest storage).
2. Fills it, unless a previous run already filled it with the same ``--tickets``, ``--seed`` and
   fill version and the tickets table still holds that many rows (``--refill`` forces it). The
   fill is set-based SQL (``INSERT … SELECT … FROM generate_series``), not the ORM: six teams and
   their agents, customers, ``--tickets`` tickets spread evenly over the two years up to now
   (reasons, channels, priorities, SLA targets met or breached, first responses and solving
   times with a long tail, a recent open backlog), about two payments per ticket (one on the
   ticket for the payment reasons, one that never needed support; failures with decline codes,
   later successes, some with a support contact in between and some without), disputes and
   refunds for the tickets about them, a customer message and an agent reply per ticket (the
   contacts recovered revenue looks for), chats for the chat tickets (most rated), a "request
   solved" survey sent for solved tickets and a rating for a fifth of them. Then VACUUM ANALYZE.
3. Counts the SQL queries of the page in this process (Django's test client logged in as the
   admin, ``CaptureQueriesContext``, as bench/queue.py does) and keeps each query's duration:
   the slowest are printed, and with ``--explain N`` the N slowest are run again under
   ``EXPLAIN (ANALYZE, BUFFERS)`` and their plans written to the log folder.
4. Starts one uvicorn process (``helpdesk.asgi:application``, DEBUG off) on the database, with a
   session for the admin written straight to the session store, warms each page up
   (``--warmup``) and sends ``--requests`` requests per page one after the other.
5. Stops the server whatever happens, prints a table and, as its last line, one JSON object:
   ``{"bench": "dashboard", "tickets": N, "median_ms_30d", "p95_ms_30d", "median_ms_1y",
   "p95_ms_1y", "queries", …}``. The target is a median under 300 ms for each period.

The pages: ``30d`` is the "last 30 days" choice of the picker; ``1y`` a custom period of the 365
days up to today, compared (as always) with the 365 days before it: the two years of the fill.
Only 127.0.0.1 is contacted. The database is kept for the next run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# As in bench/queue.py: the repository root first on the path, so that this folder's queue.py
# does not stand in for the standard library's queue module.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from bench.common import (
    HOST,
    background_load,
    check_bench_arguments,
    free_ports,
    percentile,
    recreate_database,
)
from bench.queue import (
    cpu_calibration_ms,
    database_exists,
    session_cookie,
    start_server,
    stop_server,
    time_pages,
    wait_ready,
)

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# Not a secret: the bench's own database on 127.0.0.1. Sessions are signed with it in this
# process and checked with it by the server.
BENCH_SECRET_KEY = "paydesk-bench-dashboard-0123456789abcdef0123456789abcdef"
FILL_VERSION = 1  # bump when the fill changes, so an old fill is not reused
MARKER_TABLE = "bench_dashboard_fill"
ADMIN_USERNAME = "bench-admin"
TEAMS = ("Card payments", "Disputes", "PayPal", "Refunds", "Billing EU", "Billing US")
AGENTS_PER_TEAM = 6
DAYS = 730
TARGET_MS = 300


# The fill ---------------------------------------------------------------------------------------
# One row per ticket with every random draw the other tables need, so that they agree with each
# other (a payment fails before its ticket opens; a rating comes after the ticket is solved).
# :n tickets, :customers, :teams (first team id), :agents (first agent id), :per_team.
PLAN = """
CREATE UNLOGGED TABLE bench_plan AS
SELECT g AS id,
       created,
       CASE WHEN r1 < .46 THEN 'payment_failed' WHEN r1 < .66 THEN 'question'
            WHEN r1 < .76 THEN 'dispute' WHEN r1 < .85 THEN 'refund_failed'
            WHEN r1 < .90 THEN 'fraud_warning' ELSE 'question' END AS reason,
       CASE WHEN r2 < .40 THEN 'webhook' WHEN r2 < .65 THEN 'chat' WHEN r2 < .90 THEN 'email'
            ELSE 'agent' END AS channel,
       CASE WHEN r3 < .15 THEN 'low' WHEN r3 < .75 THEN 'normal' WHEN r3 < .93 THEN 'high'
            ELSE 'urgent' END AS priority,
       team,
       %(agents)s + team * %(per_team)s + floor(r4 * %(per_team)s)::int AS assignee,
       1 + floor(r5 * %(customers)s)::bigint AS customer,
       -- first response: minutes to days, a long tail
       created + interval '1 minute' * (2 + 2880 * r6 ^ 4) AS responded,
       -- solved: hours to weeks after the first response
       created + interval '1 minute' * (2 + 2880 * r6 ^ 4) + interval '1 hour' * (240 * r7 ^ 3)
           AS solved,
       r8, r9, r10, r11, r12, r13, r14, r15
FROM (
    SELECT g,
           now() - interval '%(days)s days' * (%(n)s - g + random()) / %(n)s AS created,
           floor(random() * %(teams)s)::int AS team,
           random() r1, random() r2, random() r3, random() r4, random() r5, random() r6,
           random() r7, random() r8, random() r9, random() r10, random() r11, random() r12,
           random() r13, random() r14, random() r15
    FROM generate_series(1, %(n)s) g
) draws;
"""

TICKETS = """
INSERT INTO tickets_ticket (id, subject, reason, status, priority, channel, created_at,
    updated_at, first_response_at, solved_at, assignee_id, customer_id, team_id, due_at,
    first_response_due_at, resolution_due_at, first_response_breached, resolution_breached)
SELECT id, initcap(replace(reason, '_', ' ')) || ' #' || id, reason, status, priority, channel,
       created, coalesce(solved_at, responded_at, created), responded_at, solved_at,
       CASE WHEN responded_at IS NULL AND r8 < .5 THEN NULL ELSE assignee END, customer,
       %(first_team)s + team,
       CASE WHEN solved_at IS NOT NULL THEN NULL
            WHEN responded_at IS NULL THEN fr_due ELSE res_due END,
       fr_due, res_due,
       CASE WHEN responded_at IS NOT NULL THEN responded_at > fr_due
            WHEN fr_due < now() THEN true END,
       CASE WHEN solved_at IS NOT NULL THEN solved_at > res_due
            WHEN res_due < now() THEN true END
FROM (
    SELECT p.*,
           CASE WHEN responded < now() THEN responded END AS responded_at,
           CASE WHEN solved < now() AND r9 > .01 THEN solved END AS solved_at,
           CASE WHEN solved < now() AND r9 > .01
                THEN CASE WHEN r10 < .7 THEN 'closed' ELSE 'solved' END
                WHEN responded < now() THEN CASE WHEN r10 < .6 THEN 'open' ELSE 'pending' END
                ELSE 'new' END AS status,
           created + interval '1 hour' * hours AS fr_due,
           created + interval '1 hour' * hours * 4 AS res_due
    FROM bench_plan p,
         LATERAL (SELECT CASE priority WHEN 'low' THEN 72 WHEN 'normal' THEN 24
                                       WHEN 'high' THEN 8 ELSE 2 END AS hours) sla
) t;
"""

CUSTOMERS = """
INSERT INTO payments_customer (id, email, name, stripe_customer_id, paypal_payer_id, locale,
    created_at)
SELECT g, 'customer' || g || '@example.com', 'Customer ' || g, 'cus_bench' || g, '',
       (ARRAY['en', 'el', 'de'])[1 + g %% 3], now() - interval '%(days)s days'
FROM generate_series(1, %(customers)s) g;
"""

# Payment `id` (1..n) belongs to ticket `id` and is created just before it: it failed for the
# payment reasons (about half of those recovered after the contact, a tenth before it), and is
# a plain success for the questions. Payments n+1..2n are the ones support never saw: 5 %% of
# them fail, half of those succeed on a retry shortly after.
PAYMENTS = """
INSERT INTO payments_payment (id, provider, provider_payment_id, provider_charge_id,
    amount_minor, currency, refunded_amount_minor, status, failure_code, failure_message,
    customer_id, description, last_event_at, failed_at, succeeded_at, recovered_at,
    recovered_amount_minor, created_at, updated_at)
SELECT id, provider, CASE provider WHEN 'stripe' THEN 'pi_bench' ELSE 'PAYID-BENCH' END || id,
       '', amount, currency, 0,
       CASE WHEN recovered_at IS NOT NULL OR failed_at IS NULL THEN
                CASE WHEN reason = 'dispute' THEN 'disputed' ELSE 'succeeded' END
            ELSE 'failed' END,
       CASE WHEN failed_at IS NULL THEN ''
            WHEN provider = 'paypal' THEN (ARRAY['INSTRUMENT_DECLINED', 'PAYER_CANNOT_PAY',
                'TRANSACTION_REFUSED'])[1 + floor(r * 3)::int]
            ELSE (ARRAY['card_declined', 'insufficient_funds', 'expired_card', 'incorrect_cvc',
                'do_not_honor', 'authentication_required', 'processing_error',
                'card_velocity_exceeded'])[1 + floor(r * 8)::int] END,
       CASE WHEN failed_at IS NULL THEN '' ELSE 'The payment was declined.' END,
       customer, 'Order ' || id, coalesce(recovered_at, failed_at, created), failed_at,
       CASE WHEN failed_at IS NULL THEN created ELSE recovered_at END,
       recovered_at, CASE WHEN recovered_at IS NOT NULL THEN amount END, created,
       coalesce(recovered_at, failed_at, created)
FROM (
    SELECT p.id, p.reason, p.customer, p.r8 AS r,
           CASE WHEN p.r8 < .7 THEN 'stripe' ELSE 'paypal' END AS provider,
           CASE WHEN p.r10 < .45 THEN 'USD' WHEN p.r10 < .8 THEN 'EUR' WHEN p.r10 < .95
                THEN 'GBP' ELSE 'JPY' END AS currency,
           (ARRAY[900, 1200, 1900, 2900, 4900, 7900, 9900, 14900, 19900, 49900])
               [1 + floor(p.r9 * 10)::int] AS amount,
           p.created - interval '10 minutes' AS created,
           CASE WHEN p.reason = 'payment_failed' THEN p.created - interval '9 minutes' END
               AS failed_at,
           CASE WHEN p.reason <> 'payment_failed' THEN NULL
                WHEN p.r15 < .5 AND t.first_response_at IS NOT NULL
                     AND t.first_response_at + interval '1 hour' * (1 + 47 * p.r9) < now()
                    THEN t.first_response_at + interval '1 hour' * (1 + 47 * p.r9)
                WHEN p.r15 > .9 THEN p.created - interval '5 minutes' END AS recovered_at
    FROM bench_plan p JOIN tickets_ticket t USING (id)
    UNION ALL
    SELECT p.id + %(n)s, '', 1 + floor(p.r11 * %(customers)s)::bigint, p.r12,
           CASE WHEN p.r12 < .7 THEN 'stripe' ELSE 'paypal' END,
           CASE WHEN p.r13 < .45 THEN 'USD' WHEN p.r13 < .8 THEN 'EUR' WHEN p.r13 < .95
                THEN 'GBP' ELSE 'JPY' END,
           (ARRAY[900, 1200, 1900, 2900, 4900, 7900, 9900, 14900, 19900, 49900])
               [1 + floor(p.r14 * 10)::int],
           p.created - interval '3 hours',
           CASE WHEN p.r15 < .05 THEN p.created - interval '3 hours' END,
           CASE WHEN p.r15 < .025 THEN p.created - interval '1 hour' END
    FROM bench_plan p
) payment;
INSERT INTO tickets_ticket_payments (ticket_id, payment_id)
SELECT id, id FROM bench_plan WHERE reason <> 'question';
"""

DISPUTES_AND_REFUNDS = """
INSERT INTO payments_dispute (id, provider, provider_dispute_id, payment_id, amount_minor,
    currency, reason, provider_status, outcome, evidence_due_at, last_event_at, created_at)
SELECT pay.id, pay.provider, 'dp_bench' || pay.id, pay.id, pay.amount_minor, pay.currency,
       'fraudulent', s.status, o.outcome, pay.created_at + interval '21 days',
       CASE WHEN o.outcome = 'open' THEN pay.created_at
            ELSE pay.created_at + interval '1 day' * (30 + 45 * p.r14) END,
       pay.created_at
FROM bench_plan p JOIN payments_payment pay USING (id),
     LATERAL (SELECT CASE WHEN pay.created_at + interval '1 day' * (30 + 45 * p.r14) > now()
                          THEN 'open' WHEN p.r13 < .4 THEN 'won' ELSE 'lost' END AS outcome) o,
     LATERAL (SELECT CASE o.outcome WHEN 'open' THEN 'needs_response' ELSE o.outcome END
                  AS status) s
WHERE p.reason = 'dispute';
INSERT INTO payments_refund (id, provider, provider_refund_id, payment_id, amount_minor,
    currency, status, failure_reason, last_event_at, created_at)
SELECT pay.id, pay.provider, 're_bench' || pay.id, pay.id, pay.amount_minor, pay.currency,
       'failed', 'expired_or_canceled_card', p.created, p.created - interval '1 hour'
FROM bench_plan p JOIN payments_payment pay USING (id)
WHERE p.reason = 'refund_failed';
"""

# A customer message when the ticket opens (not for the ones a webhook opened) and the agent's
# reply at the first response: the support contacts recovered revenue looks for.
TIMELINE = """
INSERT INTO tickets_timelineentry (kind, body, public, data, created_at, author_id, ticket_id)
SELECT 'customer_message', 'Hello, my payment did not go through. Can you help?', true, '{}'::jsonb,
       created_at, NULL, id
FROM tickets_ticket WHERE channel <> 'webhook'
UNION ALL
SELECT 'agent_reply', 'Hi, thanks for writing. The bank declined the payment; please retry.',
       true, '{}'::jsonb, first_response_at, assignee_id, id
FROM tickets_ticket WHERE first_response_at IS NOT NULL;
"""

CONVERSATIONS = """
INSERT INTO chat_conversation (id, ticket_id, customer_id, team_id, assignee_id, status,
    verified, access_key_hash, language, order_reference, last_seq, customer_delivered_seq,
    customer_read_seq, agent_delivered_seq, agent_read_seq, attachment_count, rating,
    rating_comment, rated_at, created_at, accepted_at, last_message_at, closed_at)
SELECT t.id, t.id, t.customer_id, t.team_id, t.assignee_id,
       CASE WHEN closed < now() THEN 'closed' ELSE 'active' END, true, '', 'en', '', 8, 8, 8,
       8, 8, 0, CASE WHEN rated THEN rating END,
       CASE WHEN rated AND p.r11 < .3 THEN 'Chat comment ' || t.id ELSE '' END,
       CASE WHEN rated THEN closed + interval '1 minute' END, t.created_at,
       CASE WHEN t.assignee_id IS NOT NULL THEN t.created_at + interval '1 minute' END,
       least(closed, now()), CASE WHEN closed < now() THEN closed END
FROM tickets_ticket t JOIN bench_plan p USING (id),
     LATERAL (SELECT t.created_at + interval '1 minute' * (5 + 40 * p.r12) AS closed,
                     p.r13 < .6 AND t.created_at + interval '1 minute' * (6 + 40 * p.r12) < now()
                         AS rated,
                     (ARRAY[1, 2, 3, 4, 4, 5, 5, 5, 5, 5])[1 + floor(p.r14 * 10)::int]
                         AS rating) c
WHERE t.channel = 'chat' AND t.customer_id IS NOT NULL;
"""

SURVEYS = """
INSERT INTO notifications_notification (key, kind, channel, email, subject_ref, occasion,
    language, context, status, attempts, last_error, created_at, sent_at, customer_id,
    ticket_id)
SELECT 'bench-solved-' || id, 'ticket_solved', 'email', 'customer' || customer_id ||
       '@example.com', '', '', 'en', '{}', 'sent', 1, '', solved_at,
       solved_at + interval '1 minute', customer_id, id
FROM tickets_ticket WHERE solved_at IS NOT NULL AND customer_id IS NOT NULL;
INSERT INTO notifications_satisfactionrating (ticket_id, rating, comment, created_at,
    updated_at)
SELECT t.id, (ARRAY[1, 2, 3, 3, 4, 4, 5, 5, 5, 5])[1 + floor(p.r15 * 10)::int],
       CASE WHEN p.r12 < .25 THEN 'Survey comment ' || t.id ELSE '' END,
       t.solved_at + interval '1 hour' * (1 + 20 * p.r13),
       t.solved_at + interval '1 hour' * (1 + 20 * p.r13)
FROM tickets_ticket t JOIN bench_plan p USING (id)
WHERE t.solved_at IS NOT NULL AND t.customer_id IS NOT NULL AND p.r11 < .2
      AND t.solved_at + interval '21 hours' < now();
"""

FILLED_TABLES = (
    "payments_customer", "tickets_ticket", "payments_payment", "tickets_ticket_payments",
    "payments_dispute", "payments_refund", "tickets_timelineentry", "chat_conversation",
    "notifications_notification", "notifications_satisfactionrating",
)  # fmt: skip


def fill_marker(db_url: str) -> dict[str, Any] | None:
    """What the database was filled with, if it still holds that many tickets."""
    with psycopg.connect(db_url) as conn:
        if not conn.execute("SELECT to_regclass(%s)", (MARKER_TABLE,)).fetchone()[0]:
            return None
        row = conn.execute(sql.SQL("SELECT params FROM {}").format(sql.Identifier(MARKER_TABLE)))
        params = row.fetchone()
        tickets = conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
    if not params or params[0].get("tickets") != tickets:
        return None
    return params[0]


def fill(db_url: str, *, tickets: int, seed: int) -> dict[str, Any]:
    """Fill the (migrated, empty) database; return what was made and how long each step took."""
    from django.contrib.auth import get_user_model

    from tickets.models import Team

    started = time.monotonic()
    user_model = get_user_model()
    # People through the ORM: a few dozen rows, with contiguous ids the SQL counts on.
    teams = [Team.objects.create(name=name) for name in TEAMS]
    agents = []
    for index, team in enumerate(teams):
        for number in range(AGENTS_PER_TEAM):
            agent = user_model.objects.create(
                username=f"agent{index}{number}",
                first_name=f"Agent {index}{number}",
                email=f"agent{index}{number}@paydesk.example",
                password="!",  # unusable: the bench logs in with a session
            )
            agent.teams.add(team)
            agents.append(agent.pk)
    if agents != list(range(agents[0], agents[0] + len(agents))):
        raise RuntimeError("the agents' ids are not contiguous")
    user_model.objects.create(username=ADMIN_USERNAME, is_staff=True, password="!")
    params = {
        "n": tickets,
        "days": DAYS,
        "customers": max(1, tickets * 3 // 10),
        "teams": len(teams),
        "first_team": teams[0].pk,
        "agents": agents[0],
        "per_team": AGENTS_PER_TEAM,
    }
    steps: dict[str, float] = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET work_mem = '64MB'")
        conn.execute("SELECT setseed(%s)", (((seed * 7919) % 1000) / 1000,))
        for name, statement in (
            ("plan", PLAN),
            ("customers", CUSTOMERS),
            ("tickets", TICKETS),
            ("payments", PAYMENTS),
            ("disputes_refunds", DISPUTES_AND_REFUNDS),
            ("timeline", TIMELINE),
            ("conversations", CONVERSATIONS),
            ("surveys", SURVEYS),
        ):
            step = time.monotonic()
            with conn.transaction():
                conn.execute(statement % params)
            steps[name] = round(time.monotonic() - step, 1)
            print(f"[bench]   {name}: {steps[name]} s")
        conn.execute("DROP TABLE bench_plan")
        for table in FILLED_TABLES:  # explicit ids: move each id sequence past them
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, 'id'), "
                    "(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                ).format(t=sql.Literal(table), table=sql.Identifier(table))
            )
        step = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        steps["vacuum_analyze"] = round(time.monotonic() - step, 1)
        marker = {"tickets": tickets, "seed": seed, "version": FILL_VERSION}
        conn.execute(sql.SQL("CREATE TABLE {} (params jsonb)").format(sql.Identifier(MARKER_TABLE)))
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(MARKER_TABLE)),
            (json.dumps(marker),),
        )
    return {"fill_s": round(time.monotonic() - started, 1), "steps_s": steps}


def roll_up(db_url: str, env: dict[str, str]) -> dict[str, Any]:
    """Build the daily rollups of every finished day, as `manage.py rollup_dashboard --all`
    does once after an upgrade, unless they are all there; return how long it took per day."""
    with psycopg.connect(db_url) as conn:
        rolled, first = conn.execute(
            "SELECT (SELECT count(*) FROM dashboards_rolledupday),"
            " (SELECT min(created_at) FROM tickets_ticket)"
        ).fetchone()
    days = (datetime.now(UTC).date() - first.date()).days if first else 0
    if rolled >= days:
        return {"rollup_reused": True}
    print(f"[bench] rolling up {days} days")
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "manage.py", "rollup_dashboard", "--all"], cwd=ROOT, env=env, check=True
    )
    seconds = time.perf_counter() - started
    print(f"[bench] rolled up in {seconds:.0f} s")
    with psycopg.connect(db_url, autocommit=True) as conn:
        # As autovacuum would after a while: index-only scans need the visibility map.
        from dashboards.rollups import ROLLUPS

        for model in ROLLUPS:
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(model._meta.db_table)))
    return {"rollup_s": round(seconds, 1), "rollup_ms_per_day": round(1000 * seconds / days, 1)}


def data_summary(db_url: str) -> dict[str, Any]:
    with psycopg.connect(db_url) as conn:
        counts = {
            table: conn.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", (table,)
            ).fetchone()[0]
            for table in FILLED_TABLES
        }
        counts["tickets_ticket"] = conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        counts["database_size"] = size.fetchone()[0]
    return counts


# Measuring --------------------------------------------------------------------------------------
def pages_to_time() -> dict[str, str]:
    from django.utils import timezone

    today = timezone.localdate()
    year_start = today - timedelta(days=364)
    return {
        "30d": "/desk/dashboard/?period=30d",
        "1y": f"/desk/dashboard/?period=custom&start={year_start:%Y-%m-%d}&end={today:%Y-%m-%d}",
    }


def count_queries(user: Any, pages: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Each page's queries with their durations (ms), in-process, after a warm-up request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    found = {}
    for name, path in pages.items():
        client.get(path)  # warm-up: settings, translations, the database's caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in-process")
        found[name] = [
            {"ms": round(float(query["time"]) * 1000, 1), "sql": query["sql"]}
            for query in captured.captured_queries
        ]
    return found


def explain(db_url: str, queries: list[dict[str, Any]], out: Path) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) the queries into `out` (read-only queries only)."""
    with psycopg.connect(db_url) as conn, out.open("w") as file:
        conn.execute("SET jit = off")  # as the page runs them (dashboards.metrics.dashboard)
        conn.commit()
        for query in queries:
            if not query["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"]).fetchall()
            file.write(f"-- {query['ms']} ms in the page\n{query['sql']}\n")
            file.write("\n".join(row[0] for row in plan) + "\n\n")
            conn.rollback()


def short_sql(text: str, width: int = 110) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= width else text[: width - 1] + "…"


# Main -------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add = parser.add_argument
    add("--tickets", type=int, default=1_000_000, help="tickets to fill the database with")
    add("--refill", action="store_true", help="drop the database and fill it again")
    add("--requests", type=int, default=15, help="timed requests per page")
    add("--warmup", type=int, default=3, help="requests per page sent first and not counted")
    add("--explain", type=int, default=0, help="EXPLAIN ANALYZE this many slowest queries")
    add("--db-name", default="paydesk_bench_dashboard", help="PostgreSQL database of the bench")
    add("--redis-db", type=int, default=11, help="Redis database number of the server")
    add("--base-port", type=int, default=8301, help="first port to try for the server")
    add("--seed", type=int, default=1, help="random seed of the fill")
    add("--json-out", type=Path, help="also write the JSON result to this file")
    args = parser.parse_args(argv)
    check_bench_arguments(parser, args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db_url = f"postgres://postgres@127.0.0.1:5432/{args.db_name}"
    log_dir = Path(tempfile.mkdtemp(prefix="paydesk-bench-dashboard-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": db_url,
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    print(f"[bench] database {args.db_name}, logs in {log_dir}")
    background_cores = background_load()
    calibration_ms = cpu_calibration_ms()

    wanted = {"tickets": args.tickets, "seed": args.seed, "version": FILL_VERSION}
    reuse = not args.refill and database_exists(args.db_name) and fill_marker(db_url) == wanted
    if not reuse:
        recreate_database(args.db_name)
    for command in ("migrate", "collectstatic"):
        subprocess.run(
            [PYTHON, "manage.py", command, "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )

    os.environ.update(env)
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections

    fill_info: dict[str, Any] = {"reused": reuse}
    if not reuse:
        print(f"[bench] filling {args.tickets} tickets")
        fill_info.update(fill(db_url, tickets=args.tickets, seed=args.seed))
        print(f"[bench] filled in {fill_info['fill_s']} s")
    else:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("ANALYZE")
    fill_info |= roll_up(db_url, env)
    summary_data = data_summary(db_url)

    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    pages = pages_to_time()
    queries = count_queries(admin, pages)
    cookies = session_cookie(admin)
    connections.close_all()
    slowest = sorted(
        ({**query, "page": name} for name, found in queries.items() for query in found),
        key=lambda query: -query["ms"],
    )
    if args.explain:
        explain(db_url, slowest[: args.explain], log_dir / "explain.txt")
        print(f"[bench] plans of the {args.explain} slowest queries in {log_dir}/explain.txt")

    port = free_ports(args.base_port, 1)[0]
    server = start_server(port, {**env, "DB_CONN_MAX_AGE": "0"}, log_dir / "uvicorn.log")
    try:
        base_url = f"http://{HOST}:{port}"
        wait_ready(base_url + "/healthz", server, timeout=120)
        print(f"[bench] timing {len(pages)} pages: {args.requests} requests each")
        timings = time_pages(
            base_url,
            cookies,
            pages,
            server_pid=server.pid,
            warmup=args.warmup,
            requests=args.requests,
        )
    finally:
        stop_server(server)

    summary: dict[str, Any] = {"bench": "dashboard", "tickets": summary_data["tickets_ticket"]}
    for name, timing in timings.items():
        summary[f"median_ms_{name}"] = round(statistics.median(timing.samples_ms), 1)
        summary[f"p95_ms_{name}"] = round(percentile(timing.samples_ms, 95), 1)
    counts = {name: len(found) for name, found in queries.items()}
    summary["queries"] = max(counts.values())
    summary |= {
        "queries_per_page": counts,
        "sql_ms_per_page": {
            name: round(sum(query["ms"] for query in found), 1) for name, found in queries.items()
        },
        "server_cpu_ms": {name: round(t.server_cpu_ms, 1) for name, t in timings.items()},
        "machine_cores": {name: round(t.machine_cores, 2) for name, t in timings.items()},
        "requests_per_page": args.requests,
        "background_cores": background_cores,
        "cpu_calibration_ms": calibration_ms,
        "data": summary_data,
        "fill": fill_info,
    }

    print()
    print(f"Dashboard: {summary_data}")
    print(f"  {'page':<5} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'SQL ms':>8}")
    for name in pages:
        print(
            f"  {name:<5} {summary[f'median_ms_{name}']:>10} {summary[f'p95_ms_{name}']:>8} "
            f"{counts[name]:>8} {summary['sql_ms_per_page'][name]:>8}"
        )
    print("  slowest queries (in-process, ms):")
    for query in slowest[:10]:
        print(f"  {query['page']:<4} {query['ms']:>8}  {short_sql(query['sql'])}")
    line = json.dumps(summary, ensure_ascii=False)
    if args.json_out:
        args.json_out.write_text(line + "\n")
    print(line)
    met = all(summary[f"median_ms_{name}"] < TARGET_MS for name in pages)
    return 0 if met else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())

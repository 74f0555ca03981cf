"""Queue benchmark: the agent workspace's list pages and a ticket page over 100 000 tickets.

Run from the repository root:

    .venv/bin/python bench/queue.py              # fill once (about 1.5 minutes), then measure
    .venv/bin/python bench/queue.py --refill     # throw the data away and fill again
    .venv/bin/python bench/queue.py --help

What it does, in order:

1. Makes sure the PostgreSQL database ``--db-name`` (default paydesk_bench_queue, on
   127.0.0.1:5432 as user postgres) exists and is migrated, and that the static files are
   collected (the pages link them through the manifest storage, DEBUG is off).
2. Fills it, unless a previous run already filled it with the same ``--tickets`` and ``--seed``
   (``--refill`` forces it: the database is dropped and made again). The fill writes straight to
   the tables with COPY, not through the services: teams and agents (some on two teams),
   customers, Stripe and PayPal payments (failed, succeeded, refunded, disputed, with their
   disputes and refunds), tickets (reasons, priorities, mostly solved or closed, a realistic open
   backlog whose due times are partly breached, tags) and about five timeline entries per ticket
   (ticket opened, payment event, customer message, agent reply, internal note, status change)
   with text written from templates (banks, cities, order numbers). Then VACUUM ANALYZE.
3. Counts the SQL queries of every page in this process, with Django's test client logged in as
   the user and ``CaptureQueriesContext``, at two page sizes (``per_page=10`` and ``25``); for the
   ticket page, on two tickets with timelines of different length. ``queries_constant`` is true
   when each page costs the same at both sizes.
4. Starts one uvicorn process (``helpdesk.asgi:application``, DEBUG off, the settings' own
   connection pool) on the database, and a session for each user written straight to the session
   store (no login form). Warms each page up (``--warmup`` requests), then sends ``--requests``
   requests per page one after the other (httpx, keep-alive) and records the time to the full
   answer at the client.
5. Stops the server whatever happens, prints a table and, as its last line, one JSON object:
   ``{"bench": "queue", "tickets": N, "pages": {NAME: {"median_ms", "p95_ms", "queries"}},
   "queries_constant": …}`` plus details: ``queries_two_sizes`` (per page, the counts at
   per_page=10 and 25; for the ticket page, short and long timeline), ``rows_per_page``,
   ``server_cpu_ms`` (the server process's CPU time per request, from /proc: less sensitive
   than wall time to other programs on the machine), ``machine_cores`` (how busy the whole
   machine was while a page was timed), ``background_cores`` (before the run) and
   ``cpu_calibration_ms`` (a fixed pure-Python loop: this VM's speed varies by a third from
   one minute to the next), the data's shape and the fill.

The users: ``agent`` is a non-staff agent on two of the six teams (about 35 % of the tickets);
``admin`` is staff and sees every ticket; admin pages are named ``admin:<page>``. The targets
(median < 50 ms, p95 < 100 ms) are for every page.

Only 127.0.0.1 is contacted. The database is kept for the next run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on the path, and this file would stand in for
# the standard library's queue module (psycopg and httpx import it). The repository root takes
# its place, for Django's apps and bench.common.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import contextlib
import json
import os
import random
import re
import signal
import statistics
import subprocess
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from psycopg import sql

from bench.common import (
    HOST,
    PG_ADMIN_URL,
    check_bench_arguments,
    cpu_seconds,
    free_ports,
    machine_busy_seconds,
    percentile,
    recreate_database,
)
from payments.money import format_amount

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# Not a secret: the bench's own database on 127.0.0.1. Sessions are signed with it in this
# process and checked with it by the server.
BENCH_SECRET_KEY = "paydesk-bench-queue-0123456789abcdef0123456789abcdef"
FILL_VERSION = 3  # bump when the fill changes, so an old fill is not reused
SEARCH_WORD = "revolut"

AGENT_USERNAME = "bench-agent"
ADMIN_USERNAME = "bench-admin"

# Page name -> path (the ticket page's id is filled in once it is chosen).
QUEUE_PAGES = {
    "open": "/desk/?view=open",
    "mine": "/desk/?view=mine",
    "unassigned": "/desk/?view=unassigned",
    "disputes": "/desk/?view=disputes",
    "breaching": "/desk/?view=breaching",
    "solved": "/desk/?view=solved",
    "search": f"/desk/?q={SEARCH_WORD}",
    # The views menu's counts, which the queue page loads right after itself.
    "counts": "/desk/counts/?view=open",
}
TICKET_PAGE = "ticket"


# The data --------------------------------------------------------------------------------------
TEAMS = (  # name, share of the tickets
    ("Card payments", 30),
    ("Disputes", 10),
    ("PayPal", 18),
    ("Refunds", 10),
    ("Billing EU", 17),
    ("Billing US", 15),
)
AGENT_TEAMS = ("Card payments", "Disputes")
AGENTS_PER_TEAM = 6

FIRST_NAMES = (
    "Ana", "Ben", "Chloé", "Dimitra", "Emma", "Farid", "Hiro", "Inês", "Jonas", "Kofi", "Lena",
    "Marco", "Nora", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Valentina",
    "Wei", "Xenia", "Yusuf", "Zoë", "Aarav", "Beatriz", "Carlos", "Daniela", "Elif", "Giorgos",
    "Hannah", "Ivan", "Julia", "Katarzyna", "Lucas", "Maria", "Nikos", "Olga", "Pablo", "Sara",
    "Thomas", "Sofia", "Mehdi", "Leila", "James", "Olivia", "Noah", "Amelia", "Mateo",
)  # fmt: skip
LAST_NAMES = (
    "Souza", "Okafor", "Martin", "Papadopoulou", "Johansson", "Rahimi", "Tanaka", "Costa",
    "Weber", "Mensah", "Novak", "Rossi", "Haddad", "Sharma", "Dubois", "García", "Nielsen",
    "Kowalski", "Müller", "Smith", "Jones", "Brown", "Nguyen", "Kim", "Ivanova", "Silva",
    "Yilmaz", "Andersson", "Fischer", "Moreau", "López", "Georgiou", "Hosseini", "Khan",
    "Wójcik", "Bianchi", "O'Brien", "van Dijk", "Schmidt", "Petrov",
)  # fmt: skip
MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "inbox.example")
BANKS = (
    "Revolut", "Monzo", "N26", "ING", "Barclays", "HSBC", "Santander", "BNP Paribas",
    "Deutsche Bank", "Chase", "Wells Fargo", "Bank of America", "Nationwide", "Lloyds",
    "Piraeus Bank", "Alpha Bank", "Eurobank", "Commerzbank", "Rabobank", "Wise", "Starling",
    "Capital One", "Citi", "Crédit Agricole", "Intesa Sanpaolo", "CaixaBank", "KBC", "Nordea",
)  # fmt: skip
CITIES = (
    "Lisbon", "Athens", "Berlin", "Kraków", "Tokyo", "Toronto", "Lagos", "Madrid", "Milan",
    "Amsterdam", "Dublin", "Chicago", "Austin", "Seoul", "Istanbul", "Tehran", "Nairobi",
    "São Paulo", "Mexico City", "Thessaloniki",
)  # fmt: skip
CARDS = ("Visa", "Mastercard", "Amex", "debit card", "credit card", "Maestro")
SHOPS = ("the annual plan", "the Pro plan", "a gift card", "the team plan", "an add-on pack",
         "the monthly subscription", "extra seats", "the starter kit")  # fmt: skip
TAGS = (
    "vip", "chargeback-fraud", "friendly-fraud", "retry-succeeded", "3ds", "bank-contacted",
    "duplicate-charge", "wrong-amount", "subscription", "annual-plan", "enterprise", "eu", "us",
    "uk", "apple-pay", "google-pay", "sepa", "follow-up", "escalated", "refund-requested",
    "card-expired", "invoice", "vat", "partial-refund", "awaiting-bank", "evidence-sent",
)  # fmt: skip
CURRENCIES = (("USD", 45), ("EUR", 35), ("GBP", 15), ("JPY", 5))
AMOUNTS_MAJOR = (9, 12, 19, 29, 49, 79, 99, 149, 199, 249, 499, 990, 1490)
FAILURE_CODES = (
    ("card_declined", "Your card was declined."),
    ("insufficient_funds", "Your card has insufficient funds."),
    ("expired_card", "Your card has expired."),
    ("incorrect_cvc", "Your card's security code is incorrect."),
    ("do_not_honor", "Your card was declined."),
    ("authentication_required", "This transaction requires authentication."),
    ("processing_error", "An error occurred while processing your card."),
    ("card_velocity_exceeded", "Your card was declined for making repeated attempts."),
)
PAYPAL_FAILURES = (
    ("INSTRUMENT_DECLINED", "The instrument presented was either declined by the processor."),
    ("PAYER_CANNOT_PAY", "Payer cannot pay for this transaction."),
    ("TRANSACTION_REFUSED", "The request was refused."),
)
DISPUTE_REASONS = ("fraudulent", "product_not_received", "duplicate", "subscription_canceled",
                   "product_unacceptable", "credit_not_processed", "general")  # fmt: skip
REFUND_FAILURES = ("expired_or_canceled_card", "lost_or_stolen_card", "declined", "unknown")

REASONS = (  # reason, weight, subject, priority weights (low, normal, high, urgent)
    ("payment_failed", 46, "Payment failed", (10, 70, 15, 5)),
    ("question", 20, "Question", (30, 60, 8, 2)),
    ("dispute", 10, "Dispute opened", (0, 5, 25, 70)),
    ("refund_failed", 9, "Refund failed", (5, 30, 55, 10)),
    ("fraud_warning", 5, "Fraud warning", (5, 20, 60, 15)),
)
REASON_SUBJECT = {reason: subject for reason, _, subject, _ in REASONS}
PRIORITIES = ("low", "normal", "high", "urgent")
SLA_HOURS = {"low": 72, "normal": 24, "high": 8, "urgent": 2}
OPEN_STATUSES = ("new", "open", "pending", "on_hold")
CHANNEL_LABEL = {"webhook": "webhook", "chat": "chat", "email": "email", "agent": "agent"}
REASON_LABEL = {"payment_failed": "payment failed", "dispute": "dispute",
                "refund_failed": "refund failed", "fraud_warning": "fraud warning",
                "question": "question"}  # fmt: skip

CUSTOMER_MESSAGES = {
    "payment_failed": (
        "Hi, my payment of {amount} for {shop} was declined but my {bank} app shows the money "
        "as reserved. Can you check what happened?",
        "I tried to pay three times with my {card} ending {last4} and it keeps failing. I am "
        "travelling in {city} at the moment, could that be the reason?",
        "Your checkout says the card was declined. {bank} says they see no declined attempt on "
        "their side. Order {order}.",
        "Hello, the renewal of {shop} failed this morning. I updated my card yesterday, please "
        "try again.",
        "Payment keeps failing at the 3-D Secure step, the {bank} page never loads. What else "
        "can I use?",
        "Γεια σας, η πληρωμή {amount} για την παραγγελία {order} απορρίφθηκε. Η κάρτα μου "
        "είναι από την {bank}.",
    ),
    "question": (
        "Hello, I need an invoice with my company VAT number for order {order}.",
        "Can I switch {shop} from monthly to yearly billing without paying twice?",
        "Why do I see two pending charges of {amount} on my {bank} statement? I only ordered "
        "once ({order}).",
        "How long does a refund take to reach a {bank} account? I cancelled {shop} last week.",
        "My PayPal payment shows as pending since yesterday, is my subscription active?",
        "Could you change the billing address on my account? I moved to {city}.",
    ),
    "dispute": (
        "I did not authorise this charge of {amount}. {bank} told me to contact you before they "
        "open a chargeback.",
        "I never received {shop} ({order}), so I asked {bank} to reverse the payment.",
        "I was charged {amount} twice for order {order}. I have disputed the second charge "
        "with my bank.",
        "I cancelled {shop} in {month} but was still charged {amount}, so I filed a dispute.",
    ),
    "refund_failed": (
        "The refund you promised {days} days ago has still not arrived on my {bank} account.",
        "You said the refund of {amount} was sent, but my {card} was replaced after I lost it "
        "in {city}. Where does the money go now?",
        "Still waiting for my refund for order {order}. {bank} says nothing came in.",
    ),
    "fraud_warning": (
        "Someone used my {card} ending {last4} on your site, I was in {city} at the time. "
        "Please cancel order {order}.",
        "I got an alert from {bank} about a payment of {amount} to you. Was this me?",
        "My {card} was stolen last week, please make sure no more orders go through on it.",
    ),
}
AGENT_REPLIES = (
    "Hi {first}, thanks for getting in touch. The bank declined the payment of {amount} "
    "({code_words}). Please try again, or pay with another card or with PayPal; your order "
    "{order} is kept for 7 days.",
    "Hi {first}, I've refunded the duplicate charge of {amount}; it will show on your statement "
    "within 5-10 working days.",
    "Hi {first}, I can see the refund left us on {date}. Refunds to {bank} usually take 5-10 "
    "working days; if nothing arrives by then, reply here and I'll ask our provider for a trace "
    "reference.",
    "Hi {first}, thank you for letting us know. I've cancelled order {order} and blocked the "
    "card on our side. Please also tell {bank}.",
    "Hi {first}, the invoice for order {order} with your VAT number is attached. Let me know if "
    "anything else needs changing.",
    "Hi {first}, we've received the dispute from {bank} about {amount}. We are reviewing it and "
    "will write to you within two working days.",
    "Hi {first}, the 3-D Secure page is shown by {bank}, not by us. Could you try once more with "
    "the {bank} app open, or use another card?",
)
INTERNAL_NOTES = (
    "Checked the provider dashboard: {code}, 3DS not completed. Customer banks with {bank}.",
    "Called the {bank} fraud line, they confirm the block on the {card} was lifted.",
    "Possible friendly fraud: same card used for {n} successful orders before. Gathering "
    "evidence (delivery confirmation, IP {ip}).",
    "Escalated to the payments lead, waiting on PayPal support case {case}.",
    "Customer is on {shop}, {n} previous tickets, all about card declines. Suggested PayPal.",
    "Evidence uploaded: invoice {order}, delivery tracking, login history from {city}.",
    "Refund went to the old card; {bank} will forward it. Told the customer to expect a delay.",
    "Duplicate charge confirmed in the payout report, refunded {amount} manually.",
)
PAYMENT_EVENTS = {  # reason -> (event type, kind, summary template)
    "payment_failed": ("payment_intent.payment_failed", "payment_failed",
                       "Payment failed: {amount} — {code_words}"),
    "dispute": ("charge.dispute.created", "dispute_opened",
                "Dispute ({dispute_reason}): needs response"),
    "refund_failed": ("charge.refund.updated", "refund_updated",
                      "Refund of {amount}: failed ({refund_failure})"),
    "fraud_warning": ("radar.early_fraud_warning.created", "fraud_warning",
                      "Early fraud warning from the card issuer (made_with_stolen_card)."),
    "question": ("payment_intent.succeeded", "payment_succeeded", "Payment succeeded: {amount}"),
}  # fmt: skip
PAYPAL_EVENTS = {
    "payment_failed": "PAYMENT.CAPTURE.DENIED",
    "dispute": "CUSTOMER.DISPUTE.CREATED",
    "refund_failed": "PAYMENT.CAPTURE.REFUNDED",
    "fraud_warning": "PAYMENT.CAPTURE.REVERSED",
    "question": "PAYMENT.CAPTURE.COMPLETED",
}
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
PAID_STATUSES = ("succeeded", "refunded", "partially_refunded")


def weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([value for value, _ in pairs], [weight for _, weight in pairs])[0]


@dataclass
class Fill:
    """Rows of each table, as tuples in the column order given to COPY."""

    customers: list[tuple] = field(default_factory=list)
    payments: list[tuple] = field(default_factory=list)
    disputes: list[tuple] = field(default_factory=list)
    refunds: list[tuple] = field(default_factory=list)
    tickets: list[tuple] = field(default_factory=list)
    ticket_payments: list[tuple] = field(default_factory=list)
    ticket_tags: list[tuple] = field(default_factory=list)
    entries: list[tuple] = field(default_factory=list)


@dataclass
class Timeline:
    """Appends the entries of one ticket, each a little after the one before."""

    rows: list[tuple]
    ticket_id: int
    at: datetime
    now: datetime

    def add(
        self,
        kind: str,
        body: str,
        *,
        author: int | None = None,
        public: bool = False,
        data: dict | None = None,
        after_minutes: float = 0.0,
    ) -> None:
        self.at = min(self.now, self.at + timedelta(minutes=after_minutes))
        entry_id = len(self.rows) + 1
        row = (
            entry_id,
            self.ticket_id,
            kind,
            author,
            body,
            public,
            json.dumps(data or {}),
            self.at,
        )
        self.rows.append(row)


def build_rows(
    *,
    tickets: int,
    rng: random.Random,
    now: datetime,
    team_ids: dict[str, int],
    team_agents: dict[int, list[tuple[int, str]]],
    tag_ids: list[int],
) -> Fill:
    """Every row of the fill, ids given here (the tables are empty)."""
    out = Fill()
    team_weights = [weight for _, weight in TEAMS]
    team_names = [name for name, _ in TEAMS]
    reason_names = [reason for reason, *_ in REASONS]
    reason_weights = [weight for _, weight, *_ in REASONS]
    currencies = [c for c, _ in CURRENCIES]
    currency_weights = [w for _, w in CURRENCIES]
    months = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip

    # Customers: about one per two tickets; a few come back often.
    n_customers = max(1, tickets * 45 // 100)
    customer_info: list[tuple[str, str, str]] = []  # name, first name, email
    for cid in range(1, n_customers + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        plain = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore")
        local = re.sub(r"[^a-z.]", "", plain.decode().lower())
        email = f"{local}{cid}@{rng.choice(MAIL_DOMAINS)}"
        name = f"{first} {last}" if rng.random() < 0.9 else ""
        stripe_id = f"cus_{''.join(rng.choices(ALNUM, k=14))}{cid}"
        paypal_id = (
            f"{''.join(rng.choices(UPPER_ALNUM, k=9))}{cid:04d}" if rng.random() < 0.35 else ""
        )
        locale = rng.choices(("en", "el", "fa"), (85, 10, 5))[0]
        created = now - timedelta(days=rng.uniform(30, 900))
        out.customers.append((cid, email, name, stripe_id, paypal_id, locale, created))
        customer_info.append((name, first, email))
    regulars = max(1, n_customers // 20)

    payment_id = dispute_id = refund_id = 0
    # A year of tickets, numbered in the order they came in (the heap is in that order too).
    created_times = sorted(
        now - timedelta(seconds=rng.uniform(0, 365 * 86_400)) for _ in range(tickets)
    )
    for tid in range(1, tickets + 1):
        reason = rng.choices(reason_names, reason_weights)[0]
        _, _, subject_words, priority_weights = REASONS[reason_names.index(reason)]
        priority = rng.choices(PRIORITIES, priority_weights)[0]
        cid = rng.randint(1, regulars) if rng.random() < 0.3 else rng.randint(1, n_customers)
        name, first, email = customer_info[cid - 1]
        first = first if name else "there"
        created = created_times[tid - 1]
        age_days = (now - created).total_seconds() / 86_400

        # Provider and team.
        provider = "paypal" if rng.random() < 0.28 else "stripe"
        if reason == "dispute":
            team = "Disputes" if rng.random() < 0.85 else rng.choice(team_names)
        elif reason == "refund_failed":
            team = "Refunds" if rng.random() < 0.8 else rng.choice(team_names)
        elif provider == "paypal":
            team = "PayPal" if rng.random() < 0.8 else rng.choice(team_names)
        else:
            team = rng.choices(team_names, team_weights)[0]
        team_id = team_ids[team]

        # Status by age: recent tickets are mostly open, old ones solved or closed.
        open_share = (
            0.85 if age_days < 2 else 0.5 if age_days < 7 else 0.15 if age_days < 30 else 0.02
        )
        if rng.random() < open_share:
            status = rng.choices(OPEN_STATUSES, (30, 35, 25, 10))[0]
        else:
            status = "solved"
        solved_at = None
        if status == "solved":
            solved_at = min(now, created + timedelta(hours=rng.expovariate(1 / 20)))
            # Solved tickets close on their own after four days.
            status = "closed" if (now - solved_at).days >= 4 else "solved"
        is_open = status in OPEN_STATUSES

        # Due time: the SLA from creation; open work has a next due time, a quarter breached.
        if reason == "dispute":
            due_at = created + timedelta(days=rng.uniform(5, 19))
        else:
            due_at = created + timedelta(hours=SLA_HOURS[priority])
        if is_open:
            if status in ("pending", "on_hold") or rng.random() < 0.75:
                due_at = now + timedelta(hours=rng.uniform(0.25, 72))
            else:
                due_at = now - timedelta(hours=rng.uniform(0, 48))
            if reason == "question" and rng.random() < 0.1:
                due_at = None

        agents = team_agents[team_id]
        if is_open:
            assigned = (status != "new" and rng.random() < 0.9) or rng.random() < 0.25
        else:
            assigned = rng.random() < 0.97
        assignee = rng.choice(agents) if assigned else None
        replier = assignee or rng.choice(agents)
        first_response = (
            None if status == "new" else created + timedelta(minutes=rng.uniform(3, 600))
        )
        last = solved_at or first_response or created
        updated_at = (
            min(now, last + timedelta(days=rng.uniform(0, 4))) if status == "closed" else last
        )
        channel = (
            "webhook"
            if reason != "question"
            else rng.choices(("chat", "email", "agent"), (5, 4, 1))[0]
        )

        # Payments.
        currency = rng.choices(currencies, currency_weights)[0]
        major = rng.choice(AMOUNTS_MAJOR)
        amount_minor = major * 100 if currency != "JPY" else major * 150
        n_payments = 0 if reason == "question" and rng.random() < 0.5 else 1
        if reason == "payment_failed" and rng.random() < 0.12:
            n_payments = 2  # the customer tried again
        code, message = rng.choice(FAILURE_CODES if provider == "stripe" else PAYPAL_FAILURES)
        dispute_reason = rng.choice(DISPUTE_REASONS)
        refund_failure = rng.choice(REFUND_FAILURES)
        for attempt in range(n_payments):
            payment_id += 1
            if provider == "stripe":
                ref = f"pi_3{''.join(rng.choices(ALNUM, k=23))}"
                charge = f"ch_3{''.join(rng.choices(ALNUM, k=23))}"
            else:
                ref = "".join(rng.choices(UPPER_ALNUM, k=17))
                charge = ""
            p_created = created - timedelta(seconds=rng.uniform(5, 120) + attempt * 600)
            failure_code = failure_message = ""
            failed_at = succeeded_at = recovered_at = recovered_amount = None
            refunded = 0
            if reason == "payment_failed":
                p_status = "failed"
                failure_code, failure_message = code, message
                failed_at = p_created
                if not is_open and rng.random() < 0.4:
                    p_status, succeeded_at = "succeeded", solved_at
                    recovered_at, recovered_amount = solved_at, amount_minor
            elif reason == "dispute":
                p_status, succeeded_at = "disputed", p_created - timedelta(days=rng.uniform(3, 60))
            elif reason == "refund_failed":
                p_status, succeeded_at = "succeeded", p_created - timedelta(days=rng.uniform(1, 30))
            elif reason == "fraud_warning":
                p_status = rng.choice(("succeeded", "refunded"))
                succeeded_at = p_created
                refunded = amount_minor if p_status == "refunded" else 0
            else:
                p_status = rng.choices(PAID_STATUSES, (6, 3, 1))[0]
                succeeded_at = p_created
                refunded = {"refunded": amount_minor, "partially_refunded": amount_minor // 2}.get(
                    p_status, 0
                )
            out.payments.append(
                (payment_id, provider, ref, charge, amount_minor, currency, refunded, p_status,
                 failure_code, failure_message, cid, f"Order {tid:07d}", p_created, failed_at,
                 succeeded_at, recovered_at, recovered_amount, p_created, updated_at)
            )  # fmt: skip
            out.ticket_payments.append((tid, payment_id))
            if reason == "dispute":
                dispute_id += 1
                outcome = "open" if is_open else rng.choice(("won", "won", "lost"))
                evidence_due = (due_at or created) + timedelta(hours=48)
                out.disputes.append(
                    (dispute_id, provider, f"dp_{''.join(rng.choices(ALNUM, k=24))}", payment_id,
                     amount_minor, currency, dispute_reason,
                     "needs_response" if is_open else outcome, outcome, evidence_due, created,
                     created)
                )  # fmt: skip
            if reason == "refund_failed" or refunded:
                refund_id += 1
                failed_refund = reason == "refund_failed"
                out.refunds.append(
                    (refund_id, provider, f"re_{''.join(rng.choices(ALNUM, k=24))}", payment_id,
                     refunded or amount_minor, currency, "failed" if failed_refund else "succeeded",
                     refund_failure if failed_refund else "", created, created)
                )  # fmt: skip

        subject = " · ".join(
            filter(
                None,
                [subject_words, format_amount(amount_minor, currency) if n_payments else "", email],
            )
        )
        if reason == "question":
            subject = rng.choice(
                ("Invoice request", "Billing question", "Change of plan", "Double charge?",
                 "Where is my refund?", "Update billing address")
            ) + f" · {email}"  # fmt: skip
        out.tickets.append(
            (tid, subject, cid, reason, status, priority, channel,
             assignee[0] if assignee else None, team_id, due_at, created, updated_at,
             first_response, solved_at)
        )  # fmt: skip
        for tag in rng.sample(tag_ids, rng.choices((0, 1, 2, 3), (45, 35, 15, 5))[0]):
            out.ticket_tags.append((tid, tag))

        # The timeline.
        words = {
            "amount": format_amount(amount_minor, currency),
            "shop": rng.choice(SHOPS),
            "bank": rng.choice(BANKS),
            "card": rng.choice(CARDS),
            "last4": f"{rng.randint(0, 9999):04d}",
            "city": rng.choice(CITIES),
            "order": f"#{rng.randint(100000, 999999)}",
            "days": rng.randint(6, 30),
            "month": rng.choice(months),
            "first": first,
            "code": code,
            "code_words": message.rstrip(".").lower(),
            "date": (created - timedelta(days=rng.randint(3, 20))).strftime("%d %B"),
            "n": rng.randint(2, 14),
            "ip": f"203.0.113.{rng.randint(1, 254)}",
            "case": f"PP-D-{rng.randint(10000, 99999)}",
            "dispute_reason": dispute_reason.replace("_", " "),
            "refund_failure": refund_failure.replace("_", " "),
        }
        timeline = Timeline(out.entries, ticket_id=tid, at=created, now=now)
        entry = timeline.add

        entry(
            "ticket_created",
            f"Ticket opened ({REASON_LABEL[reason]}, {CHANNEL_LABEL[channel]}).",
        )
        if n_payments:
            event_type, kind, summary = PAYMENT_EVENTS[reason]
            if provider == "paypal":
                event_type = PAYPAL_EVENTS[reason]
            entry(
                "payment_event",
                summary.format(**words),
                data={"event_type": event_type, "kind": kind},
                after_minutes=0.01,
            )
        entry(
            "customer_message",
            rng.choice(CUSTOMER_MESSAGES[reason]).format(**words),
            public=True,
            after_minutes=rng.uniform(1, 90),
        )
        if status != "new":
            entry(
                "agent_reply",
                rng.choice(AGENT_REPLIES).format(**words),
                author=replier[0],
                public=True,
                after_minutes=rng.uniform(3, 600),
            )
            if rng.random() < 0.75:
                entry(
                    "internal_note",
                    rng.choice(INTERNAL_NOTES).format(**words),
                    author=replier[0],
                    after_minutes=rng.uniform(1, 240),
                )
        if rng.random() < 0.25:
            entry(
                "customer_message",
                rng.choice(("Thanks, that worked!", "It went through now, thank you.",
                            "Still not working, I tried again with my {card}.",
                            "Any news? {bank} still shows nothing.")).format(**words),
                public=True,
                after_minutes=rng.uniform(30, 1440),
            )  # fmt: skip
        if not is_open:
            entry(
                "status_change",
                "Status: Open → Solved",
                author=replier[0],
                data={"from": "open", "to": "solved"},
                after_minutes=rng.uniform(1, 60),
            )
    return out


# Database --------------------------------------------------------------------------------------
def database_exists(name: str) -> bool:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def fill_marker(db_url: str) -> dict[str, Any] | None:
    with psycopg.connect(db_url) as conn:
        exists = conn.execute("SELECT to_regclass('bench_queue_fill')").fetchone()[0]
        if not exists:
            return None
        row = conn.execute("SELECT params FROM bench_queue_fill").fetchone()
    return row[0] if row else None


def copy_rows(cur: psycopg.Cursor, model: Any, fields: list[str], rows: list[tuple]) -> None:
    """COPY rows into a model's table; `fields` name the model fields in the rows' order."""
    columns = [model._meta.get_field(name).column for name in fields]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def fill(db_url: str, *, tickets: int, seed: int) -> dict[str, Any]:
    """Fill the (migrated, empty) database; return what was made."""
    from django.contrib.auth import get_user_model

    from payments.models import Customer, Dispute, Payment, Refund
    from tickets.models import Tag, Team, Ticket, TimelineEntry

    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.monotonic()
    user_model = get_user_model()

    # People and labels through the ORM: a few dozen rows.
    teams = {name: Team.objects.create(name=name) for name, _ in TEAMS}
    team_agents: dict[int, list[tuple[int, str]]] = {team.pk: [] for team in teams.values()}
    number = 0
    for team in teams.values():
        for _ in range(AGENTS_PER_TEAM):
            number += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            user = user_model.objects.create(
                username=f"agent{number:02d}",
                first_name=first,
                last_name=last,
                email=f"agent{number:02d}@paydesk.example",
                password="!",  # unusable: the bench logs in with sessions
            )
            user.teams.add(team)
            team_agents[team.pk].append((user.pk, user.username))
            if rng.random() < 0.25:  # some agents work a second team
                other = rng.choice([t for t in teams.values() if t != team])
                user.teams.add(other)
                team_agents[other.pk].append((user.pk, user.username))
    agent = user_model.objects.create(
        username=AGENT_USERNAME, first_name="Bench", last_name="Agent", password="!"
    )
    for name in AGENT_TEAMS:
        agent.teams.add(teams[name])
        team_agents[teams[name].pk].append((agent.pk, agent.username))
    user_model.objects.create(
        username=ADMIN_USERNAME, password="!", is_staff=True, is_superuser=True
    )
    tag_ids = [Tag.objects.create(name=name).pk for name in TAGS]

    rows = build_rows(
        tickets=tickets,
        rng=rng,
        now=now,
        team_ids={name: team.pk for name, team in teams.items()},
        team_agents=team_agents,
        tag_ids=tag_ids,
    )
    built = time.monotonic()
    tables = (
        (Customer, ["id", "email", "name", "stripe_customer_id", "paypal_payer_id", "locale",
                    "created_at"], rows.customers),
        (Payment, ["id", "provider", "provider_payment_id", "provider_charge_id", "amount_minor",
                   "currency", "refunded_amount_minor", "status", "failure_code",
                   "failure_message", "customer", "description", "last_event_at", "failed_at",
                   "succeeded_at", "recovered_at", "recovered_amount_minor", "created_at",
                   "updated_at"], rows.payments),
        (Dispute, ["id", "provider", "provider_dispute_id", "payment", "amount_minor", "currency",
                   "reason", "provider_status", "outcome", "evidence_due_at", "last_event_at",
                   "created_at"], rows.disputes),
        (Refund, ["id", "provider", "provider_refund_id", "payment", "amount_minor", "currency",
                  "status", "failure_reason", "last_event_at", "created_at"], rows.refunds),
        (Ticket, ["id", "subject", "customer", "reason", "status", "priority", "channel",
                  "assignee", "team", "due_at", "created_at", "updated_at", "first_response_at",
                  "solved_at"], rows.tickets),
        (Ticket.payments.through, ["ticket", "payment"], rows.ticket_payments),
        (Ticket.tags.through, ["ticket", "tag"], rows.ticket_tags),
        (TimelineEntry, ["id", "ticket", "kind", "author", "body", "public", "data",
                         "created_at"], rows.entries),
    )  # fmt: skip
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        for model, fields, table_rows in tables:
            copy_rows(cur, model, fields, table_rows)
        # The ids were given above: move each sequence past them.
        for model in (Customer, Payment, Dispute, Refund, Ticket, TimelineEntry):
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    "coalesce((SELECT max(id) FROM {}), 1))"
                ).format(sql.Identifier(model._meta.db_table)),
                (model._meta.db_table,),
            )
        cur.execute("CREATE TABLE bench_queue_fill (params jsonb NOT NULL)")
        cur.execute(
            "INSERT INTO bench_queue_fill VALUES (%s)",
            (json.dumps({"tickets": tickets, "seed": seed, "version": FILL_VERSION}),),
        )
    copied = time.monotonic()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {
        "fill_s": round(time.monotonic() - started, 1),
        "generate_s": round(built - started, 1),
        "copy_s": round(copied - built, 1),
        "rows": {
            "customers": len(rows.customers),
            "payments": len(rows.payments),
            "disputes": len(rows.disputes),
            "refunds": len(rows.refunds),
            "tickets": len(rows.tickets),
            "timeline_entries": len(rows.entries),
            "ticket_tags": len(rows.ticket_tags),
        },
    }


def data_summary(db_url: str, agent_id: int) -> dict[str, Any]:
    with psycopg.connect(db_url) as conn:
        statuses = dict(
            conn.execute("SELECT status, count(*) FROM tickets_ticket GROUP BY status").fetchall()
        )
        visible = conn.execute(
            "SELECT count(*) FROM tickets_ticket t JOIN tickets_team_members m "
            "ON m.team_id = t.team_id WHERE m.user_id = %s",
            (agent_id,),
        ).fetchone()[0]
        entries = conn.execute("SELECT count(*) FROM tickets_timelineentry").fetchone()[0]
        breached = conn.execute(
            "SELECT count(*) FROM tickets_ticket WHERE status IN ('new','open','pending',"
            "'on_hold') AND due_at < now()"
        ).fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = size.fetchone()[0]
    total = sum(statuses.values())
    return {
        "tickets": total,
        "statuses": statuses,
        "open_share": round(sum(statuses.get(s, 0) for s in OPEN_STATUSES) / max(1, total), 3),
        "open_breached": breached,
        "visible_to_agent": visible,
        "timeline_entries": entries,
        "database_size": size,
    }


# Pages ------------------------------------------------------------------------------------------
def pick_tickets(agent: Any) -> tuple[int, int]:
    """An open dispute ticket of the agent's with the longest timeline, and a ticket with a
    payment and the shortest one (for the query count: the same queries whatever the length)."""
    from django.db.models import Count, Exists, OuterRef

    from tickets.models import Ticket

    visible = Ticket.objects.filter(team__members=agent).annotate(entries=Count("timeline"))
    long = (
        visible.filter(status="open", reason="dispute")
        .order_by("-entries", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    short = (
        visible.filter(
            Exists(Ticket.payments.through.objects.filter(ticket_id=OuterRef("pk"))),
            customer__isnull=False,
        )
        .order_by("entries", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if long is None or short is None:
        raise RuntimeError("no ticket to show: is the database filled?")
    return long, short


def with_page_size(path: str, per_page: int) -> str:
    return f"{path}{'&' if '?' in path else '?'}per_page={per_page}"


def count_queries(user: Any, pages: dict[str, str], ticket_ids: tuple[int, int]) -> dict:
    """Queries per page at two sizes (queue) or for two tickets (ticket page), in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)

    def queries(path: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in-process")
        rows = response.content.decode().count('class="ticket-row"')
        return len(captured.captured_queries), rows

    client.get("/desk/")  # first request: settings, translations and the like
    counts = {}
    for name, path in pages.items():
        small, rows_small = queries(with_page_size(path, 10))
        large, rows_large = queries(with_page_size(path, 25))
        counts[name] = {"small": small, "large": large, "rows": [rows_small, rows_large]}
    long_id, short_id = ticket_ids
    long = queries(f"/desk/tickets/{long_id}/")[0]
    short = queries(f"/desk/tickets/{short_id}/")[0]
    counts[TICKET_PAGE] = {"small": short, "large": long, "rows": None}
    return counts


def session_cookie(user: Any) -> dict[str, str]:
    """A logged-in session for `user`, written to the session store as a login would."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {settings.SESSION_COOKIE_NAME: session.session_key}


# Server -----------------------------------------------------------------------------------------
UVICORN = [PYTHON, "-m", "uvicorn", "helpdesk.asgi:application", "--host", HOST,
           "--loop", "uvloop", "--http", "httptools", "--no-access-log",
           "--log-level", "warning", "--lifespan", "off"]  # fmt: skip


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*UVICORN, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def cpu_calibration_ms() -> float:
    """Milliseconds this machine takes for a fixed pure-Python loop (median of 5): to compare
    runs on machines, or moments, of different speed. The pages are mostly Python."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for number in range(1_000_000):
            total += number
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


@dataclass
class PageTiming:
    samples_ms: list[float]
    server_cpu_ms: float  # the server's CPU time per request
    machine_cores: float  # how busy the whole machine was meanwhile, in cores


def time_pages(
    base_url: str,
    cookies: dict[str, str],
    pages: dict[str, str],
    *,
    server_pid: int,
    warmup: int,
    requests: int,
) -> dict[str, PageTiming]:
    """Time per request, per page: sequential requests on one keep-alive connection."""
    timings: dict[str, PageTiming] = {}
    with httpx.Client(base_url=base_url, cookies=cookies, timeout=30, trust_env=False) as client:
        for name, path in pages.items():
            for _ in range(warmup):
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
            samples = []
            cpu_before, busy_before = cpu_seconds(server_pid), machine_busy_seconds()
            started = time.perf_counter()
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(path)
                _ = response.content
                samples.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
            elapsed = time.perf_counter() - started
            timings[name] = PageTiming(
                samples,
                (cpu_seconds(server_pid) - cpu_before) * 1000 / requests,
                (machine_busy_seconds() - busy_before) / elapsed,
            )
    return timings


# Main -------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add = parser.add_argument
    add("--tickets", type=int, default=100_000, help="tickets to fill the database with")
    add("--refill", action="store_true", help="drop the database and fill it again")
    add("--requests", type=int, default=50, help="timed requests per page")
    add("--warmup", type=int, default=5, help="requests per page sent first and not counted")
    add("--users", default="agent,admin", help="whom to measure as: agent, admin or both")
    add("--db-name", default="paydesk_bench_queue", help="PostgreSQL database of the bench")
    add("--redis-db", type=int, default=6, help="Redis database number of the server")
    add("--base-port", type=int, default=8201, help="first port to try for the server")
    add("--seed", type=int, default=1, help="random seed of the fill")
    add("--json-out", type=Path, help="also write the JSON result to this file")
    args = parser.parse_args(argv)
    check_bench_arguments(parser, args)
    args.users = [user.strip() for user in args.users.split(",") if user.strip()]
    if not args.users or set(args.users) - {"agent", "admin"}:
        parser.error("--users takes agent, admin or agent,admin")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db_url = f"postgres://postgres@127.0.0.1:5432/{args.db_name}"
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    log_dir = Path(tempfile.mkdtemp(prefix="paydesk-bench-queue-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    print(f"[bench] database {args.db_name}, logs in {log_dir}")
    busy = machine_busy_seconds()
    time.sleep(2)
    background_cores = round((machine_busy_seconds() - busy) / 2, 2)
    if background_cores > 0.2:
        print(f"[bench] warning: the machine is already busy ({background_cores} cores)")
    calibration_ms = cpu_calibration_ms()

    wanted = {"tickets": args.tickets, "seed": args.seed, "version": FILL_VERSION}
    reuse = not args.refill and database_exists(args.db_name) and fill_marker(db_url) == wanted
    if not reuse:
        recreate_database(args.db_name)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )

    # Django in this process, on the same database: the fill's ORM part and the query counts.
    os.environ.update(env)
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    fill_info: dict[str, Any] = {"reused": reuse}
    if not reuse:
        print(f"[bench] filling {args.tickets} tickets")
        fill_info.update(fill(db_url, tickets=args.tickets, seed=args.seed))
        print(f"[bench] filled in {fill_info['fill_s']} s")
    else:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("ANALYZE")

    users = {
        "agent": get_user_model().objects.get(username=AGENT_USERNAME),
        "admin": get_user_model().objects.get(username=ADMIN_USERNAME),
    }
    summary_data = data_summary(db_url, users["agent"].pk)
    ticket_ids = pick_tickets(users["agent"])

    query_counts = {who: count_queries(users[who], QUEUE_PAGES, ticket_ids) for who in args.users}
    cookies = {who: session_cookie(users[who]) for who in args.users}
    from django.db import connections

    connections.close_all()

    port = free_ports(args.base_port, 1)[0]
    server = start_server(port, {**env, "DB_CONN_MAX_AGE": "0"}, log_dir / "uvicorn.log")
    timings: dict[str, dict[str, list[float]]] = {}
    try:
        base_url = f"http://{HOST}:{port}"
        wait_ready(base_url + "/healthz", server)
        pages = {**QUEUE_PAGES, TICKET_PAGE: f"/desk/tickets/{ticket_ids[0]}/"}
        for who in args.users:
            print(f"[bench] timing {len(pages)} pages as {who}: {args.requests} requests each")
            timings[who] = time_pages(
                base_url,
                cookies[who],
                pages,
                server_pid=server.pid,
                warmup=args.warmup,
                requests=args.requests,
            )
    finally:
        stop_server(server)
    log_text = (log_dir / "uvicorn.log").read_text(errors="replace")
    problems = Counter(
        line.split(":", 1)[0]
        for line in log_text.splitlines()
        if "Traceback" in line or "ERROR" in line
    )

    result_pages: dict[str, dict[str, Any]] = {}
    rows: dict[str, Any] = {}
    queries_two_sizes: dict[str, list[int]] = {}
    server_cpu: dict[str, float] = {}
    machine_cores: dict[str, float] = {}
    constant = True
    for who in args.users:
        for name, timing in timings[who].items():
            counts = query_counts[who][name]
            key = name if who == "agent" else f"{who}:{name}"
            result_pages[key] = {
                "median_ms": round(statistics.median(timing.samples_ms), 1),
                "p95_ms": round(percentile(timing.samples_ms, 95), 1),
                "queries": counts["large"],
            }
            server_cpu[key] = round(timing.server_cpu_ms, 1)
            machine_cores[key] = round(timing.machine_cores, 2)
            queries_two_sizes[key] = [counts["small"], counts["large"]]
            constant = constant and counts["small"] == counts["large"]
            rows[key] = counts["rows"]

    print()
    print(
        f"Queue: {summary_data['tickets']} tickets ({summary_data['open_share']:.1%} open, "
        f"{summary_data['open_breached']} open ones breached), "
        f"{summary_data['timeline_entries']} timeline entries, {summary_data['database_size']}; "
        f"the agent sees {summary_data['visible_to_agent']}"
    )
    print(
        f"  {'page':<18} {'median ms':>10} {'p95 ms':>8} {'server CPU ms':>14} "
        f"{'machine cores':>14} {'queries':>8} {'10/25':>7} rows"
    )
    for key, figures in result_pages.items():
        who, _, name = key.rpartition(":")
        counts = query_counts[who or "agent"][name]
        print(
            f"  {key:<18} {figures['median_ms']:>10} {figures['p95_ms']:>8} "
            f"{server_cpu[key]:>14} {machine_cores[key]:>14} {figures['queries']:>8} "
            f"{counts['small']:>3}/{counts['large']:<3} {rows[key]}"
        )
    print(
        f"  machine busy before the run: {background_cores} cores (of {os.cpu_count()}); "
        f"a 1M-step Python loop takes {calibration_ms} ms"
    )
    if problems:
        print(f"  server log problems: {dict(problems)} (see {log_dir})")
    summary = {
        "bench": "queue",
        "tickets": summary_data["tickets"],
        "pages": result_pages,
        "queries_constant": constant,
        "requests_per_page": args.requests,
        # [per_page=10, per_page=25]; for the ticket page [short timeline, long timeline]
        "queries_two_sizes": queries_two_sizes,
        "ticket_page": {"long": ticket_ids[0], "short": ticket_ids[1]},
        "rows_per_page": rows,
        "server_cpu_ms": server_cpu,
        "machine_cores": machine_cores,
        "background_cores": background_cores,
        "cpu_calibration_ms": calibration_ms,
        "data": summary_data,
        "fill": fill_info,
        "log_problems": sum(problems.values()),
    }
    line = json.dumps(summary, ensure_ascii=False)
    if args.json_out:
        args.json_out.write_text(line + "\n")
    print(line)
    met = all(p["median_ms"] < 50 and p["p95_ms"] < 100 for p in result_pages.values())
    return 0 if met and constant else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())

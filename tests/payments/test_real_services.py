"""Against the real PostgreSQL, Redis and a real Celery worker (run by `make test-services`)."""

import json
import threading
import time

import pytest
from django.db import connection

from payments.models import EventOutcome, Provider, WebhookEvent
from payments.services import webhook_event_process, webhook_event_store
from tests.conftest import (
    require_real_services,
    stripe_event,
    stripe_headers,
    stripe_object_event,
    wait_until,
)
from tickets.models import EntryKind, Ticket

pytestmark = pytest.mark.services


def _store(event: dict) -> WebhookEvent:
    stored, _ = webhook_event_store(
        provider=Provider.STRIPE,
        event_id=event["id"],
        event_type=event["type"],
        body=json.dumps(event).encode(),
        signature_headers={},
    )
    return stored


def _process_at_once(pks: list[int]) -> list[BaseException]:
    """Process each event in its own thread (own connection), all released at the same moment."""
    barrier = threading.Barrier(len(pks))
    errors: list[BaseException] = []

    def run(pk: int) -> None:
        try:
            barrier.wait()
            webhook_event_process(event_pk=pk)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(pk,)) for pk in pks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def slow_ticket_lookup(monkeypatch):
    """Widen the race window: each worker pauses between looking for the open ticket and
    opening one, as a busy database would make it."""
    from payments import rules

    real = rules.ticket_find_open

    def slow(**kwargs):
        found = real(**kwargs)
        time.sleep(0.2)
        return found

    monkeypatch.setattr(rules, "ticket_find_open", slow)


@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_failures_of_one_payment_at_once_make_one_ticket(
    slow_ticket_lookup,
):
    require_real_services()
    for round_ in range(3):
        pi = f"pi_race_{round_}"
        first = stripe_event("payment_intent.payment_failed", event_id=f"evt_a{round_}", id=pi)
        second = stripe_event("charge.failed", event_id=f"evt_b{round_}", payment_intent=pi,
                              id=f"ch_race_{round_}")  # fmt: skip
        first["data"]["object"]["charges"]["data"][0]["id"] = f"ch_race_{round_}"
        known = stripe_event("payment_intent.requires_action", event_id=f"evt_k{round_}", id=pi)
        webhook_event_process(event_pk=_store(known).pk)  # the payment exists before the race
        pks = [_store(first).pk, _store(second).pk]

        assert _process_at_once(pks) == []

        tickets = Ticket.objects.filter(payments__provider_payment_id=pi)
        assert tickets.count() == 1
        assert tickets.get().timeline.filter(kind=EntryKind.PAYMENT_EVENT).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_fraud_warnings_about_one_payment_processed_at_once_make_one_ticket(
    slow_ticket_lookup,
):
    require_real_services()
    known = stripe_event("charge.failed", event_id="evt_known", id="ch_1234", payment_intent=None)
    webhook_event_process(event_pk=_store(known).pk)
    warnings = [
        stripe_object_event(
            "radar.early_fraud_warning",
            event_type="radar.early_fraud_warning.created",
            event_id=f"evt_efw_{n}",
            created=1_700_000_000 + n,
            id=f"issfr_{n}",
        )
        for n in (1, 2)
    ]

    assert _process_at_once([_store(w).pk for w in warnings]) == []

    ticket = Ticket.objects.get(reason="fraud_warning")
    assert ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_event_processed_by_two_workers_at_once_acts_once():
    require_real_services()
    event = _store(stripe_event("charge.dispute.created", event_id="evt_dup"))

    assert _process_at_once([event.pk, event.pk]) == []

    event.refresh_from_db()
    assert event.outcome == EventOutcome.PROCESSED
    assert event.attempts == 1
    ticket = Ticket.objects.get()
    assert ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT).count() == 1


def test_a_real_worker_turns_a_delivered_event_into_a_ticket(client, celery_worker_process):
    event = stripe_event("payment_intent.payment_failed", event_id="evt_worker")
    body = json.dumps(event).encode()

    response = client.post(
        "/webhooks/stripe/", data=body, content_type="application/json", **stripe_headers(body)
    )

    assert response.status_code == 200
    stored = WebhookEvent.objects.get(event_id="evt_worker")
    wait_until(lambda: WebhookEvent.objects.get(pk=stored.pk).outcome == EventOutcome.PROCESSED)
    ticket = Ticket.objects.get()
    assert ticket.payments.get().provider_payment_id == event["data"]["object"]["id"]

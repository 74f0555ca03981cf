"""Stripe deliveries through the real endpoint, signed with a real Stripe-Signature."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError

from payments.models import (
    Customer,
    Dispute,
    DisputeOutcome,
    EventOutcome,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from payments.views import ERROR_STORE
from tests.conftest import PAYLOADS, stripe_event, stripe_headers, stripe_object_event
from tickets.models import EntryKind, Priority, Reason, Ticket

pytestmark = pytest.mark.django_db

PI = "pi_000000000000000000000000"
CH = "ch_000000000000000000000000"

# sample -> (payment id, payment status, ticket reason or None)
RECORDED_SAMPLES = {
    "payment_intent.payment_failed": (PI, PaymentStatus.FAILED, Reason.PAYMENT_FAILED),
    "payment_intent.succeeded": (PI, PaymentStatus.SUCCEEDED, None),
    "payment_intent.requires_action": (PI, PaymentStatus.REQUIRES_ACTION, None),
    "payment_intent.canceled": (PI, PaymentStatus.CANCELED, None),
    "charge.failed": (PI, PaymentStatus.FAILED, Reason.PAYMENT_FAILED),
    "charge.refunded": (CH, PaymentStatus.REFUNDED, None),
    "charge.refund.updated": (CH, PaymentStatus.REFUNDED, None),
    "charge.dispute.created": (CH, PaymentStatus.DISPUTED, Reason.DISPUTE),
    "invoice.payment_failed": (PI, PaymentStatus.FAILED, Reason.PAYMENT_FAILED),
    "invoice.payment_action_required": (PI, PaymentStatus.REQUIRES_ACTION, None),
    "checkout.session.completed": (PI, PaymentStatus.PENDING, None),
}


def _event_bodies(ticket: Ticket) -> list[str]:
    entries = ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT)
    return list(entries.values_list("body", flat=True))


def _raw(name: str) -> bytes:
    return (PAYLOADS / "stripe" / f"{name}.json").read_bytes()


@pytest.mark.parametrize("name", sorted(RECORDED_SAMPLES))
def test_each_recorded_stripe_event_leaves_the_expected_payment_and_ticket(post_stripe, name):
    payment_id, status, reason = RECORDED_SAMPLES[name]

    response = post_stripe(_raw(name))

    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == _raw(name)
    assert event.outcome == EventOutcome.PROCESSED
    payment = Payment.objects.get(provider_payment_id=payment_id)
    assert payment.status == status
    assert event.payment == payment
    tickets = Ticket.objects.all()
    if reason is None:
        assert not tickets.exists()
    else:
        ticket = tickets.get()
        assert ticket.reason == reason
        assert list(ticket.payments.all()) == [payment]
        assert ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT, webhook_event=event).exists()


def test_a_failed_payment_ticket_explains_the_decline_in_words(post_stripe):
    post_stripe(_raw("payment_intent.payment_failed"))

    ticket = Ticket.objects.get()
    payment = ticket.payments.get()
    assert payment.failure_code == "generic_decline"
    assert payment.failure_message == "Your card was declined."
    assert ticket.priority == Priority.NORMAL
    assert "20.00 USD" in ticket.subject
    entry = ticket.timeline.get(kind=EntryKind.PAYMENT_EVENT)
    assert "declined the card without giving a reason" in entry.body


def test_an_unused_event_type_is_stored_and_marked_ignored(post_stripe):
    response = post_stripe(_raw("customer.subscription.deleted"))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.event_type == "customer.subscription.deleted"
    assert event.outcome == EventOutcome.IGNORED
    assert not Payment.objects.exists()
    assert not Ticket.objects.exists()


def test_a_dispute_is_an_urgent_ticket_due_before_the_evidence_deadline(post_stripe, settings):
    settings.DISPUTE_DUE_MARGIN_HOURS = 48

    post_stripe(_raw("charge.dispute.created"))

    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.URGENT
    deadline = datetime.fromtimestamp(1649116799, tz=UTC)
    assert ticket.due_at == deadline - timedelta(hours=48)
    dispute = Dispute.objects.get()
    assert dispute.evidence_due_at == deadline
    assert dispute.reason == "fraudulent"
    assert dispute.outcome == DisputeOutcome.OPEN


def test_a_closed_dispute_appends_to_its_ticket_and_records_the_outcome(post_stripe):
    opened = stripe_event("charge.dispute.created", event_id="evt_open", created=1_700_000_000)
    dispute = opened["data"]["object"]
    closed = stripe_object_event(
        "dispute",
        event_type="charge.dispute.closed",
        event_id="evt_closed",
        created=1_700_100_000,
        id=dispute["id"],
        charge=dispute["charge"],
        status="lost",
    )

    post_stripe(opened)
    post_stripe(closed)

    ticket = Ticket.objects.get()
    assert ticket.reason == Reason.DISPUTE
    assert ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT).count() == 2
    assert Dispute.objects.get().outcome == DisputeOutcome.LOST
    assert "lost" in ticket.timeline.last().body


def test_a_failed_refund_is_a_high_priority_ticket(post_stripe):
    event = stripe_object_event(
        "refund",
        event_type="refund.failed",
        event_id="evt_refund_failed",
        created=1_700_000_000,
        status="failed",
        failure_reason="expired_or_canceled_card",
    )

    post_stripe(event)

    ticket = Ticket.objects.get()
    assert ticket.reason == Reason.REFUND_FAILED
    assert ticket.priority == Priority.HIGH
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.FAILED
    assert refund.failure_reason == "expired_or_canceled_card"
    assert "expired or canceled card" in ticket.timeline.last().body


def test_a_refund_that_succeeds_appends_to_the_customers_open_ticket(post_stripe):
    failed = stripe_event("charge.failed", event_id="evt_1", created=1_700_000_000)
    refund = stripe_event("charge.refund.updated", event_id="evt_2", created=1_700_000_100)
    refund["data"]["object"]["payment_intent"] = PI

    post_stripe(failed)
    post_stripe(refund)

    ticket = Ticket.objects.get()
    bodies = list(
        ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT).values_list("body", flat=True)
    )
    assert len(bodies) == 2
    assert "Refund of 1.00 USD: succeeded" in bodies[1]


def test_an_early_fraud_warning_is_a_high_priority_ticket(post_stripe):
    event = stripe_object_event(
        "radar.early_fraud_warning",
        event_type="radar.early_fraud_warning.created",
        event_id="evt_efw",
        created=1_700_000_000,
    )

    post_stripe(event)

    ticket = Ticket.objects.get()
    assert ticket.reason == Reason.FRAUD_WARNING
    assert ticket.priority == Priority.HIGH
    assert ticket.payments.get().provider_payment_id == "ch_1234"


def test_the_same_event_delivered_five_times_acts_once(post_stripe):
    body = _raw("payment_intent.payment_failed")

    answers = [post_stripe(body) for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicate"] for a in answers] == [False, True, True, True, True]
    event = WebhookEvent.objects.get()
    assert event.deliveries == 5
    assert event.attempts == 1
    ticket = Ticket.objects.get()
    assert ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT).count() == 1


def test_a_second_failure_appends_to_the_same_open_ticket(post_stripe):
    post_stripe(stripe_event("payment_intent.payment_failed", event_id="evt_a", created=100))
    post_stripe(stripe_event("charge.failed", event_id="evt_b", created=200))

    ticket = Ticket.objects.get()
    assert ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT).count() == 2


def test_a_late_older_event_never_moves_the_payment_back(post_stripe):
    post_stripe(stripe_event("payment_intent.succeeded", event_id="evt_new", created=2_000))
    post_stripe(stripe_event("payment_intent.payment_failed", event_id="evt_old", created=1_000))

    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.last_event_at == datetime.fromtimestamp(2_000, tz=UTC)


def test_a_payment_that_succeeds_after_failing_is_recorded_as_recovered(post_stripe):
    post_stripe(stripe_event("payment_intent.payment_failed", event_id="evt_1", created=1_000))
    post_stripe(stripe_event("payment_intent.succeeded", event_id="evt_2", created=2_000))

    payment = Payment.objects.get()
    assert payment.recovered_amount_minor == 2000
    assert payment.recovered_at == datetime.fromtimestamp(2_000, tz=UTC)
    ticket = Ticket.objects.get()
    assert ticket.timeline.last().body == "Payment recovered: 20.00 USD"


def _final_state():
    payment = Payment.objects.get()
    tickets = [
        (
            t.reason,
            sorted(t.timeline.filter(kind=EntryKind.PAYMENT_EVENT).values_list("body", flat=True)),
        )
        for t in Ticket.objects.order_by("reason")
    ]
    return payment.status, payment.recovered_amount_minor, payment.last_event_at, tickets


STORY = [
    stripe_event("payment_intent.requires_action", event_id="evt_1", created=1_000),
    stripe_event("payment_intent.payment_failed", event_id="evt_2", created=2_000),
    stripe_event("charge.failed", event_id="evt_3", created=2_001),
    stripe_event("payment_intent.succeeded", event_id="evt_4", created=3_000),
]


def test_shuffled_deliveries_end_in_the_same_state(post_stripe):
    states = []
    for order in [(0, 1, 2, 3), (3, 2, 1, 0), (1, 3, 0, 2), (3, 0, 2, 1), (2, 3, 1, 0)]:
        for index in order:
            post_stripe(STORY[index])
        states.append(_final_state())
        for model in (Ticket, WebhookEvent, Payment, Customer):
            model.objects.all().delete()

    assert all(state == states[0] for state in states), states
    status, recovered, last_event_at, tickets = states[0]
    assert status == PaymentStatus.SUCCEEDED
    assert recovered == 2000
    assert last_event_at == datetime.fromtimestamp(3_000, tz=UTC)
    [(reason, bodies)] = tickets
    assert reason == Reason.PAYMENT_FAILED
    assert len(bodies) == 3  # two failures and the recovery
    assert "Payment recovered: 20.00 USD" in bodies


def test_a_forged_signature_is_refused_and_nothing_is_stored(client):
    body = _raw("payment_intent.payment_failed")
    forged = stripe_event("payment_intent.payment_failed", event_id="evt_x")  # signed body differs

    response = client.post(
        "/webhooks/stripe/",
        data=body,
        content_type="application/json",
        **stripe_headers(json.dumps(forged).encode()),
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("invalid signature")
    assert not WebhookEvent.objects.exists()


def test_a_body_signed_with_another_secret_is_refused(post_stripe):
    response = post_stripe(_raw("charge.failed"), secret="whsec_somebody_else")

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_old_secret_still_verifies_while_it_is_being_rotated(post_stripe, settings):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_new", "whsec_old"]

    response = post_stripe(_raw("charge.failed"), secret="whsec_old")

    assert response.status_code == 200


def test_a_stale_timestamp_is_refused(post_stripe):
    response = post_stripe(_raw("charge.failed"), timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert "timestamp" in response.json()["error"].lower()
    assert not WebhookEvent.objects.exists()


def test_an_unsigned_delivery_is_refused(client):
    response = client.post(
        "/webhooks/stripe/", data=_raw("charge.failed"), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"error": "invalid signature: missing header Stripe-Signature"}


def test_a_body_over_one_mebibyte_is_refused_with_413(post_stripe):
    event = stripe_event("charge.failed", event_id="evt_big")
    event["data"]["object"]["description"] = "x" * (1024 * 1024)

    response = post_stripe(event)

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_signed_broken_json_is_refused_as_malformed(post_stripe):
    response = post_stripe(b'{"id": "evt_1", "type": ')

    assert response.status_code == 400
    assert response.json()["error"] == "malformed event: body is not JSON"


def test_signed_json_without_an_event_id_is_refused_as_malformed(post_stripe):
    response = post_stripe(b'{"object": "event"}')

    assert response.status_code == 400
    assert "missing field" in response.json()["error"]


def test_a_get_is_not_allowed(client):
    assert client.get("/webhooks/stripe/").status_code == 405


def test_when_the_database_cannot_store_the_event_the_answer_is_503(post_stripe, monkeypatch):
    def fail(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr("payments.views.webhook_event_store", fail)

    response = post_stripe(_raw("charge.failed"))

    assert response.status_code == 503
    assert response.json() == {"error": ERROR_STORE}


def test_a_delivery_in_another_language_still_writes_english_on_the_timeline(
    client, django_capture_on_commit_callbacks
):
    event = stripe_event("payment_intent.payment_failed", event_id="evt_el", created=1_000)
    body = json.dumps(event).encode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/webhooks/stripe/",
            data=body,
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="el",
            **stripe_headers(body),
        )

    entry = Ticket.objects.get().timeline.get(kind=EntryKind.PAYMENT_EVENT)
    assert entry.body.startswith("Payment failed:")
    assert "κάρτα" not in entry.body

"""Deliveries while the Celery broker is unreachable are stored, answered 2xx, and picked up
later by the periodic sweep or the reprocess_events command."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from helpdesk.celery import app as celery_app
from payments.models import EventOutcome, WebhookEvent
from payments.services import broker_backoff_reset
from payments.tasks import sweep_webhook_events
from tests.conftest import stripe_event
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

DEAD_BROKER = "redis://127.0.0.1:9/0"  # nothing listens on port 9


@pytest.fixture
def broker_down():
    """Point Celery at a broker that refuses connections, as when Redis is down."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url = DEAD_BROKER
    celery_app.conf.task_always_eager = False
    _forget_connections()
    yield
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
    _forget_connections()


def _forget_connections():
    broker_backoff_reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _deliver_three(post_stripe):
    answers = [
        post_stripe(stripe_event("payment_intent.payment_failed", event_id=f"evt_{n}", created=n))
        for n in (1, 2, 3)
    ]
    return answers


def test_events_arriving_while_the_broker_is_down_are_stored_and_answered(post_stripe, broker_down):
    started = time.monotonic()
    answers = _deliver_three(post_stripe)
    elapsed = time.monotonic() - started

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert elapsed < 5  # one failed publish, then the broker is skipped for a while
    assert WebhookEvent.objects.filter(outcome=EventOutcome.PENDING).count() == 3
    assert not Ticket.objects.exists()


def test_the_sweep_processes_what_was_stored_while_the_broker_was_down(post_stripe, broker_down):
    _deliver_three(post_stripe)
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    celery_app.conf.task_always_eager = True  # the broker is back

    queued = sweep_webhook_events()

    assert queued == 3
    assert WebhookEvent.objects.filter(outcome=EventOutcome.PROCESSED).count() == 3
    assert Ticket.objects.count() == 1


def test_the_sweep_leaves_just_received_events_to_their_own_task(post_stripe, broker_down):
    _deliver_three(post_stripe)
    celery_app.conf.task_always_eager = True

    assert sweep_webhook_events() == 0


def test_reprocess_events_processes_pending_and_failed_events(post_stripe, broker_down, capsys):
    _deliver_three(post_stripe)
    WebhookEvent.objects.filter(event_id="evt_3").update(outcome=EventOutcome.FAILED)

    call_command("reprocess_events")

    assert WebhookEvent.objects.filter(outcome=EventOutcome.PROCESSED).count() == 3
    assert "3 events: 3 processed" in capsys.readouterr().out
    assert Ticket.objects.count() == 1


def test_reprocess_events_filters_by_type_and_outcome(post_stripe, broker_down, capsys):
    _deliver_three(post_stripe)
    post_stripe(stripe_event("charge.failed", event_id="evt_charge", created=9))

    call_command("reprocess_events", "--type", "charge.failed", "--provider", "stripe")

    assert WebhookEvent.objects.get(event_id="evt_charge").outcome == EventOutcome.PROCESSED
    assert WebhookEvent.objects.filter(outcome=EventOutcome.PENDING).count() == 3

    call_command("reprocess_events", "--outcome", "processed", "--dry-run")
    assert "1 events would be processed" in capsys.readouterr().out

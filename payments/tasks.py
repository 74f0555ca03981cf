"""Celery tasks: thin wrappers that load an id and call one service."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from payments.models import EventOutcome, WebhookEvent
from payments.services import broker_backoff_reset, enqueue_processing, webhook_event_process


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=5,
)
def process_webhook_event(self, event_pk: int) -> str:
    return webhook_event_process(event_pk=event_pk).value


def unprocessed_events(*, pending_older_than: timedelta | None = None):
    """Events still waiting (stored while the broker was down) or failed and worth retrying."""
    now = timezone.now()
    pending_cutoff = now - (pending_older_than or timedelta(seconds=30))
    failed_cutoff = now - timedelta(seconds=settings.WEBHOOK_RETRY_FAILED_AFTER_S)
    return WebhookEvent.objects.filter(
        Q(outcome=EventOutcome.PENDING, received_at__lte=pending_cutoff)
        | Q(
            outcome=EventOutcome.FAILED,
            received_at__lte=failed_cutoff,
            attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS,
        )
    ).order_by("received_at")


@shared_task
def sweep_webhook_events() -> int:
    """Queue every event that is stored but not processed (beat runs this every minute)."""
    broker_backoff_reset()  # this task runs, so the broker is reachable again
    count = 0
    for pk in unprocessed_events().values_list("pk", flat=True)[:5000]:
        if not enqueue_processing(pk):
            break
        count += 1
    return count

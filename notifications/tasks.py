"""Celery tasks of the notifications: thin wrappers around notifications.services and .scans."""

from celery import shared_task
from django.conf import settings

from helpdesk.celery import broker_backoff_reset
from notifications import scans
from notifications.services import notification_deliver, notifications_sweep


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_notification(self, notification_pk: int) -> str:
    """Send one notification. The row counts the attempts and gives up after
    NOTIFICATION_MAX_ATTEMPTS; Celery's own retry count is not the limit."""
    delivery = notification_deliver(notification_pk)
    if (
        delivery.retry_in is not None
        and self.request.retries < settings.NOTIFICATION_MAX_ATTEMPTS * 3
    ):
        raise self.retry(countdown=delivery.retry_in)
    return delivery.status


@shared_task
def sweep_notifications() -> int:
    broker_backoff_reset()  # this task runs, so the broker is reachable again
    return notifications_sweep()


@shared_task
def scan_sla() -> int:
    return scans.sla_scan()


@shared_task
def scan_dispute_deadlines() -> int:
    return scans.dispute_deadline_scan()


@shared_task
def send_daily_digest() -> int:
    return scans.daily_digest()

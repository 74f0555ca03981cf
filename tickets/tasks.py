"""Celery tasks of the ticket app: thin wrappers that load an id and call one function."""

from celery import shared_task

from tickets.emails import reply_email_send
from tickets.models import TimelineEntry


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
)
def send_reply_email(entry_pk: int) -> bool:
    entry = TimelineEntry.objects.select_related("ticket__customer", "author").get(pk=entry_pk)
    return reply_email_send(entry=entry)

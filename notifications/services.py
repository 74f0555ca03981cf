"""Writing notifications down, and delivering them exactly once.

A notification is a row before it is anything else. Its key (recipient, kind, subject, occasion,
channel) is unique, so whatever notices the occasion twice — a webhook delivered again, a scan
that runs every minute, two workers at once — writes one row. Delivery claims the row, sends,
and marks it sent:

    pending ──claim──▶ sending ──sent──▶ sent
       ▲                  │
       └──error, retry────┘──error, out of tries──▶ failed

A claim is a lease (NOTIFICATION_SEND_LEASE_S). A second task for the same row, while the first
holds the lease, waits for it to end instead of sending; a worker killed in the middle of a send
leaves a claim that ends, and the task the broker delivers again (late acknowledgement) or the
sweep sends the notification then.
"""

import hashlib
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.celery import queue_task
from notifications import channels
from notifications.models import (
    AGENT_KINDS,
    AgentPreferences,
    Channel,
    CustomerEmail,
    Kind,
    Notification,
    SatisfactionRating,
    Status,
    Unsubscribe,
)
from payments.models import Customer
from tickets.models import Ticket

logger = logging.getLogger(__name__)

# A retry task may come back a moment before the time it was given.
RETRY_SLACK = timedelta(seconds=2)

# The emails a customer stops by unsubscribing. Replies to what they asked, and the transcript
# they asked for, still reach them.
UNSUBSCRIBABLE = (Kind.PAYMENT_FAILED, Kind.TICKET_SOLVED)
DEFAULT_AGENT_EMAIL_KINDS = (
    Kind.TICKET_ASSIGNED,
    Kind.URGENT_TICKET,
    Kind.SLA_BREACHED,
    Kind.DISPUTE_DEADLINE_72H,
    Kind.DISPUTE_DEADLINE_24H,
)


def notification_key(*, recipient: str, kind: str, subject_ref: str, occasion: str, channel: str):
    raw = "|".join((recipient, kind, subject_ref, occasion, channel))
    return hashlib.sha256(raw.encode()).hexdigest()


def notify(
    *,
    kind: Kind,
    channel: Channel,
    subject_ref: str,
    occasion: str = "",
    user: AbstractBaseUser | None = None,
    customer: Customer | None = None,
    email: str = "",
    ticket: Ticket | None = None,
    language: str = "en",
    context: dict[str, Any] | None = None,
) -> Notification | None:
    """Write the notification down and queue its delivery once the transaction commits.
    Returns None when this recipient already has it for this occasion."""
    recipient = f"user:{user.pk}" if user is not None else f"email:{email.strip().lower()}"
    key = notification_key(
        recipient=recipient, kind=kind, subject_ref=subject_ref, occasion=occasion, channel=channel
    )
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key,
                kind=kind,
                channel=channel,
                user=user,
                customer=customer,
                email=email,
                ticket=ticket,
                subject_ref=subject_ref,
                occasion=occasion,
                language=language if language in dict(settings.LANGUAGES) else "en",
                context=context or {},
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: enqueue_delivery(notification.pk))
    return notification


def notify_agent(
    *, kind: Kind, user: AbstractBaseUser, ticket: Ticket | None, subject_ref: str,
    occasion: str = "", context: dict[str, Any] | None = None,
) -> list[Notification]:  # fmt: skip
    """An agent's notice: in the app always, by email too when their preferences say so."""
    from accounts.selectors import preferences_for

    if not user.is_active:
        return []
    language = preferences_for(user).language or settings.LANGUAGE_CODE
    wanted = [Channel.IN_APP]
    if user.email and kind in agent_email_kinds(user):
        wanted.append(Channel.EMAIL)
    made = []
    for channel in wanted:
        notification = notify(
            kind=kind, channel=channel, subject_ref=subject_ref, occasion=occasion, user=user,
            email=user.email if channel == Channel.EMAIL else "", ticket=ticket,
            language=language, context=context,
        )  # fmt: skip
        if notification is not None:
            made.append(notification)
    return made


def agent_email_kinds(user: AbstractBaseUser) -> list[str]:
    """The kinds the agent also wants by email (read from `user.notification_preferences`:
    select it with the user when asking for many)."""
    try:
        preferences = user.notification_preferences
    except AgentPreferences.DoesNotExist:
        return list(DEFAULT_AGENT_EMAIL_KINDS)
    return [kind for kind in preferences.email_kinds if kind in AGENT_KINDS]


def agent_preferences_update(*, user: AbstractBaseUser, email_kinds: list[str]) -> None:
    user.notification_preferences, _ = AgentPreferences.objects.update_or_create(
        user=user, defaults={"email_kinds": [kind for kind in email_kinds if kind in AGENT_KINDS]}
    )


def enqueue_delivery(notification_pk: int) -> bool:
    """Hand the notification to a worker. Never raises: with the broker down it stays pending
    and the sweep queues it later."""
    from notifications.tasks import deliver_notification

    return queue_task(deliver_notification, notification_pk)


@dataclass(frozen=True)
class Delivery:
    """What a delivery attempt came to. `retry_in` (seconds) asks for another attempt."""

    status: str
    retry_in: float | None = None


def notification_deliver(notification_pk: int) -> Delivery:
    """Send one notification if nobody has, and record that it was."""
    claimed = _claim(notification_pk)
    if isinstance(claimed, Delivery):
        return claimed
    notification = claimed
    reason_not_to_send = _reason_not_to_send(notification)
    if reason_not_to_send:
        _finish(notification, Status.SKIPPED, error=reason_not_to_send)
        return Delivery(Status.SKIPPED)
    try:
        channels.send(notification)
    except channels.TRANSIENT_ERRORS as error:
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            logger.error("Notification %s failed for good: %s", notification.pk, error)
            _finish(notification, Status.FAILED, error=repr(error))
            return Delivery(Status.FAILED)
        delay = retry_delay(notification.attempts)
        logger.warning("Notification %s failed, will retry in %.0f s: %s", notification.pk,
                       delay, error)  # fmt: skip
        _finish(notification, Status.PENDING, error=repr(error), retry_in=delay)
        return Delivery(Status.PENDING, retry_in=delay)
    except Exception as error:
        # A template an admin broke, a recipient that vanished: trying again will not help.
        logger.exception("Notification %s cannot be sent", notification.pk)
        _finish(notification, Status.FAILED, error=repr(error))
        return Delivery(Status.FAILED)
    _finish(notification, Status.SENT)
    return Delivery(Status.SENT)


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: about 30 s, 1 min, 2 min, … up to an hour."""
    base = settings.NOTIFICATION_RETRY_BASE_S * 2 ** max(attempts - 1, 0)
    return min(base, 3600) * random.uniform(0.8, 1.2)  # noqa: S311  (jitter, not a secret)


def _claim(notification_pk: int) -> Notification | Delivery:
    lease = timedelta(seconds=settings.NOTIFICATION_SEND_LEASE_S)
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user", "customer", "ticket")
            .filter(pk=notification_pk)
            .first()
        )
        if notification is None:
            return Delivery(Status.SKIPPED)
        if notification.status in (Status.SENT, Status.FAILED, Status.SKIPPED):
            return Delivery(notification.status)
        now = timezone.now()
        # A copy of the task (the sweep's, the broker's) early for a retry waits its turn: the
        # backoff holds however many copies there are.
        if notification.next_attempt_at and notification.next_attempt_at > now + RETRY_SLACK:
            remaining = (notification.next_attempt_at - now).total_seconds()
            return Delivery(Status.PENDING, retry_in=remaining)
        if notification.status == Status.SENDING and notification.claimed_at + lease > now:
            remaining = (notification.claimed_at + lease - now).total_seconds()
            return Delivery(Status.SENDING, retry_in=remaining + 1)
        notification.status = Status.SENDING
        notification.claimed_at = now
        notification.attempts += 1
        notification.save(update_fields=["status", "claimed_at", "attempts"])
    return notification


def _finish(
    notification: Notification, status: Status, *, error: str = "", retry_in: float | None = None
) -> None:
    fields: dict[str, Any] = {"status": status, "last_error": error[:2000]}
    if status == Status.SENT:
        fields["sent_at"] = timezone.now()
    if status == Status.PENDING:
        fields["claimed_at"] = None
        fields["next_attempt_at"] = timezone.now() + timedelta(seconds=retry_in or 0)
    # Only the holder of the claim finishes it: a claim taken over after its lease ended wins.
    Notification.objects.filter(
        pk=notification.pk, status=Status.SENDING, claimed_at=notification.claimed_at
    ).update(**fields)


def _reason_not_to_send(notification: Notification) -> str:
    if notification.channel == Channel.IN_APP:
        return "" if notification.user_id else "nobody to tell"
    if not notification.email:
        return "no email address"
    if notification.user_id is None:  # a customer
        setting = CustomerEmail.objects.filter(kind=notification.kind).first()
        if setting is not None and not setting.enabled:
            return "switched off by an admin"
        if (
            notification.kind in UNSUBSCRIBABLE
            and Unsubscribe.objects.filter(email__iexact=notification.email).exists()
        ):
            return "the customer unsubscribed"
    elif not notification.user.is_active:
        return "the account is deactivated"
    return ""


def undelivered_notifications():
    """Pending notifications nobody picked up (queued while the broker was down), and claims
    whose lease ran out (a worker died holding them)."""
    now = timezone.now()
    return (
        Notification.objects.filter(
            status__in=(Status.PENDING, Status.SENDING),
            created_at__lte=now - timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_S),
        )
        .exclude(
            status=Status.SENDING,
            claimed_at__gt=now - timedelta(seconds=settings.NOTIFICATION_SEND_LEASE_S),
        )
        # Waiting for a retry: its own task comes back then.
        .exclude(status=Status.PENDING, next_attempt_at__gt=now)
    )


def notifications_sweep(limit: int = 5000) -> int:
    """Queue again what is undelivered. The claim makes a copy that finds it sent do nothing."""
    count = 0
    for pk in (
        undelivered_notifications().order_by("created_at").values_list("pk", flat=True)[:limit]
    ):
        if not enqueue_delivery(pk):
            break
        count += 1
    return count


def notification_retry(notification: Notification) -> None:
    """An admin asks for a failed notification to be tried again."""
    updated = Notification.objects.filter(
        pk=notification.pk, status__in=(Status.FAILED, Status.SKIPPED)
    ).update(
        status=Status.PENDING, attempts=0, claimed_at=None, next_attempt_at=None, last_error=""
    )
    if updated:
        transaction.on_commit(lambda: enqueue_delivery(notification.pk))


def unread_count(user: AbstractBaseUser) -> int:
    return Notification.objects.filter(
        user=user, channel=Channel.IN_APP, read_at__isnull=True, status=Status.SENT
    ).count()


def notifications_mark_read(*, user: AbstractBaseUser, pks: list[int] | None = None) -> int:
    """Mark the user's in-app notices read (all of them when `pks` is None)."""
    unread = Notification.objects.filter(user=user, channel=Channel.IN_APP, read_at__isnull=True)
    if pks is not None:
        unread = unread.filter(pk__in=pks)
    count = unread.update(read_at=timezone.now())
    if count:
        channels.announce_unread(user)
    return count


def unsubscribe(email: str) -> None:
    Unsubscribe.objects.get_or_create(email=email.strip().lower())


def ticket_rate(*, ticket: Ticket, rating: int, comment: str) -> None:
    """Record the customer's rating of how their solved ticket was handled, and put it on the
    timeline (card numbers in the comment are masked there and here)."""
    from chat.redaction import redact_pans
    from tickets.models import EntryKind
    from tickets.services import ticket_add_entry

    comment = redact_pans(comment.strip())[0]
    with transaction.atomic():
        SatisfactionRating.objects.update_or_create(
            ticket=ticket, defaults={"rating": rating, "comment": comment}
        )
        ticket_add_entry(
            ticket=ticket,
            kind=EntryKind.CUSTOMER_MESSAGE,
            body=f"Customer rated the support {rating}/5." + (f"\n{comment}" if comment else ""),
            public=True,
            data={"rating": rating},
        )

"""Every write to a ticket goes through these functions, and each one leaves a timeline entry."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from chat.redaction import redact_pans
from payments.models import Customer, Payment, WebhookEvent
from tickets.models import (
    OPEN_STATUSES,
    Channel,
    EntryKind,
    Priority,
    Reason,
    Status,
    Team,
    Ticket,
    TimelineEntry,
)

_UNCHANGED: Any = object()


def default_team() -> Team:
    team, _ = Team.objects.get_or_create(name=settings.DEFAULT_TEAM_NAME)
    return team


def ticket_create(
    *,
    subject: str,
    reason: Reason,
    customer: Customer | None = None,
    priority: Priority = Priority.NORMAL,
    channel: Channel = Channel.AGENT,
    team: Team | None = None,
    due_at: datetime | None = None,
    payments: tuple[Payment, ...] = (),
    author: AbstractBaseUser | None = None,
) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.create(
            subject=redact_pans(subject)[0][:300],
            reason=reason,
            customer=customer,
            priority=priority,
            channel=channel,
            team=team or default_team(),
            due_at=due_at,
        )
        if payments:
            ticket.payments.add(*payments)
        ticket_add_entry(
            ticket=ticket,
            kind=EntryKind.TICKET_CREATED,
            author=author,
            body=f"Ticket opened ({ticket.get_reason_display().lower()}, {channel.label.lower()}).",
        )
    return ticket


def ticket_add_entry(
    *,
    ticket: Ticket,
    kind: EntryKind,
    body: str = "",
    author: AbstractBaseUser | None = None,
    public: bool = False,
    webhook_event: WebhookEvent | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append to the timeline. A provider event is appended to a given ticket at most once.
    Card numbers in the body are masked before it is stored."""
    body, redacted = redact_pans(body)
    if redacted:
        data = {**(data or {}), "card_number_masked": True}
    if webhook_event is not None:
        existing = TimelineEntry.objects.filter(ticket=ticket, webhook_event=webhook_event).first()
        if existing:
            return existing
    entry = TimelineEntry.objects.create(
        ticket=ticket,
        kind=kind,
        body=body,
        author=author,
        public=public,
        webhook_event=webhook_event,
        data=data or {},
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    return entry


def ticket_find_open(*, payment: Payment, reason: Reason) -> Ticket | None:
    """The open ticket about this payment for this reason (callers hold the payment's lock)."""
    return (
        Ticket.objects.filter(payments=payment, reason=reason, status__in=OPEN_STATUSES)
        .order_by("created_at")
        .first()
    )


def ticket_find_open_for_payment(*, payment: Payment) -> Ticket | None:
    """The newest open ticket about this payment, or else about its customer."""
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES).order_by("-created_at")
    ticket = open_tickets.filter(payments=payment).first()
    if ticket is None and payment.customer_id:
        ticket = open_tickets.filter(customer_id=payment.customer_id).first()
    return ticket


def ticket_update(
    *,
    ticket: Ticket,
    actor: AbstractBaseUser | None,
    status: Status | None = None,
    priority: Priority | None = None,
    assignee: Any = _UNCHANGED,
    team: Team | None = None,
    due_at: Any = _UNCHANGED,
) -> Ticket:
    """Change fields of a ticket; each real change is recorded on the timeline with its author."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        changes: list[tuple[EntryKind, str, dict[str, Any]]] = []
        if status and status != ticket.status:
            changes.append(
                (
                    EntryKind.STATUS_CHANGE,
                    f"Status: {ticket.get_status_display()} → {Status(status).label}",
                    {"from": ticket.status, "to": status},
                )
            )
            ticket.status = status
            ticket.solved_at = timezone.now() if status == Status.SOLVED else None
        if priority and priority != ticket.priority:
            changes.append(
                (
                    EntryKind.PRIORITY_CHANGE,
                    f"Priority: {ticket.get_priority_display()} → {Priority(priority).label}",
                    {"from": ticket.priority, "to": priority},
                )
            )
            ticket.priority = priority
        if assignee is not _UNCHANGED and assignee != ticket.assignee:
            name = assignee.get_username() if assignee else "nobody"
            changes.append(
                (
                    EntryKind.ASSIGNMENT_CHANGE,
                    f"Assigned to {name}",
                    {"from": ticket.assignee_id, "to": assignee.pk if assignee else None},
                )
            )
            ticket.assignee = assignee
        if team and team != ticket.team:
            changes.append(
                (
                    EntryKind.TEAM_CHANGE,
                    f"Team: {ticket.team} → {team}",
                    {"from": ticket.team_id, "to": team.pk},
                )
            )
            ticket.team = team
        if due_at is not _UNCHANGED:
            ticket.due_at = due_at
        ticket.save()
        for kind, body, data in changes:
            ticket_add_entry(ticket=ticket, kind=kind, body=body, author=actor, data=data)
    return ticket


def ticket_reply(*, ticket: Ticket, author: AbstractBaseUser, body: str) -> TimelineEntry:
    """A reply the customer sees. The first one records the first response time."""
    with transaction.atomic():
        entry = ticket_add_entry(
            ticket=ticket, kind=EntryKind.AGENT_REPLY, body=body, author=author, public=True
        )
        # Conditional updates: the caller's ticket instance may be stale.
        this = Ticket.objects.filter(pk=ticket.pk)
        this.filter(first_response_at__isnull=True).update(first_response_at=entry.created_at)
        this.filter(status=Status.NEW).update(status=Status.OPEN)
    return entry


def ticket_note(*, ticket: Ticket, author: AbstractBaseUser, body: str) -> TimelineEntry:
    """An internal note: agents see it, the customer never does."""
    return ticket_add_entry(
        ticket=ticket, kind=EntryKind.INTERNAL_NOTE, body=body, author=author, public=False
    )

"""Periodic looks at the tickets (run by beat, see notifications/schedules.py): SLA reminders and
breaches, dispute deadlines, the admins' daily digest.

A scan may run twice at once or again a second later: each notice it writes has a key naming
its occasion (the due time it warns of, the day of a digest), so the second run writes
nothing."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.utils import timezone

from notifications.models import Channel, Kind, Notification
from notifications.receivers import team_agents, ticket_facts
from notifications.services import notify, notify_agent
from notifications.texts import iso
from payments.models import Dispute, DisputeOutcome, Payment
from tickets.models import OPEN_STATUSES, Reason, Ticket

SCAN_LIMIT = 2000


def _recipients(ticket: Ticket):
    """Whoever has the ticket, or, while nobody has it, everyone on its team."""
    if ticket.assignee_id:
        return [ticket.assignee] if ticket.assignee.is_active else []
    return list(team_agents(ticket))


def sla_scan(now: datetime | None = None) -> int:
    """Warn before a ticket's next SLA target is due (SLA_WARNING_MINUTES ahead), and tell, and
    record, when it has passed. Returns the number of notices written."""
    from tickets.selectors import tickets_breaching_sla
    from tickets.sla import sla_record_breaches

    now = now or timezone.now()
    oldest = now - timedelta(hours=settings.SLA_BREACH_NOTICE_HOURS)
    tickets = list(
        tickets_breaching_sla(within=timedelta(minutes=settings.SLA_WARNING_MINUTES), now=now)
        .filter(due_at__gt=oldest)
        .select_related("customer")[:SCAN_LIMIT]
    )
    sla_record_breaches(now=now)
    # A ticket stays near or past its target for many scans: those already told of it (every
    # recipient gets the notice in the app) are passed over without a query each.
    told = set(
        Notification.objects.filter(
            kind__in=(Kind.SLA_WARNING, Kind.SLA_BREACHED),
            channel=Channel.IN_APP,
            ticket__in=[ticket.pk for ticket in tickets],
        ).values_list("ticket_id", "kind", "occasion")
    )
    written = 0
    for ticket in tickets:
        breached = ticket.due_at <= now
        kind = Kind.SLA_BREACHED if breached else Kind.SLA_WARNING
        occasion = f"{ticket.sla_target}:{iso(ticket.due_at)}"
        if (ticket.pk, kind, occasion) in told:
            continue
        facts = {**ticket_facts(ticket), "due_at": iso(ticket.due_at), "target": ticket.sla_target}
        for agent in _recipients(ticket):
            written += len(
                notify_agent(
                    kind=kind,
                    user=agent,
                    ticket=ticket,
                    subject_ref=f"ticket:{ticket.pk}",
                    occasion=occasion,
                    context=facts,
                )
            )
    return written


DEADLINE_REMINDERS = ((Kind.DISPUTE_DEADLINE_24H, 24), (Kind.DISPUTE_DEADLINE_72H, 72))


def dispute_deadline_scan(now: datetime | None = None) -> int:
    """Remind the dispute ticket's agent 72 hours and 24 hours before the evidence is due."""
    now = now or timezone.now()
    disputes = Dispute.objects.filter(
        outcome=DisputeOutcome.OPEN,
        evidence_due_at__gt=now,
        evidence_due_at__lte=now + timedelta(hours=72),
    ).order_by("evidence_due_at")[:SCAN_LIMIT]
    written = 0
    for dispute in disputes:
        ticket = (
            Ticket.objects.filter(
                payments=dispute.payment_id, reason=Reason.DISPUTE, status__in=OPEN_STATUSES
            )
            .select_related("team", "customer", "assignee")
            .order_by("created_at")
            .first()
        )
        if ticket is None:
            continue
        left = dispute.evidence_due_at - now
        # Only the nearest reminder: a dispute first seen 20 hours before its deadline gets
        # the 24-hour one, not both.
        kind = next(kind for kind, hours in DEADLINE_REMINDERS if left <= timedelta(hours=hours))
        facts = {**ticket_facts(ticket), "due_at": iso(dispute.evidence_due_at)}
        for agent in _recipients(ticket):
            written += len(
                notify_agent(
                    kind=kind,
                    user=agent,
                    ticket=ticket,
                    subject_ref=f"dispute:{dispute.pk}",
                    occasion=iso(dispute.evidence_due_at),
                    context=facts,
                )
            )
    return written


def tickets_breached_between(start: datetime, end: datetime):
    """Tickets with a target due in [start, end) that was missed."""
    return Ticket.objects.filter(
        Q(first_response_due_at__gte=start, first_response_due_at__lt=end,
          first_response_breached=True)
        | Q(resolution_due_at__gte=start, resolution_due_at__lt=end, resolution_breached=True)
    )  # fmt: skip


def digest_figures(start: datetime, end: datetime, now: datetime) -> dict:
    """The day's figures for the digest, each counted in the database."""
    tickets = Ticket.objects.all()
    opened = tickets.filter(created_at__gte=start, created_at__lt=end).count()
    solved = tickets.filter(solved_at__gte=start, solved_at__lt=end).count()
    breached = tickets_breached_between(start, end).count()
    due_soon = (
        Dispute.objects.filter(
            outcome=DisputeOutcome.OPEN,
            evidence_due_at__gt=now,
            evidence_due_at__lte=now + timedelta(hours=72),
        )
        .select_related("payment")
        .order_by("evidence_due_at")[:20]
    )
    recovered = (
        Payment.objects.filter(recovered_at__gte=start, recovered_at__lt=end)
        .values("currency")
        .annotate(amount=Sum("recovered_amount_minor"), count=Count("pk"))
        .order_by("currency")
    )
    return {
        "opened": opened,
        "solved": solved,
        "breached": breached,
        "disputes_due": [
            {
                "amount": dispute.amount_minor,
                "currency": dispute.currency,
                "due_at": iso(dispute.evidence_due_at),
                "payment": dispute.payment.provider_payment_id,
            }
            for dispute in due_soon
        ],
        "recovered": {row["currency"]: row["amount"] or 0 for row in recovered},
        "recovered_count": sum(row["count"] for row in recovered),
    }


def daily_digest(now: datetime | None = None) -> int:
    """Email every admin the figures of the day that ended at the last midnight (TIME_ZONE)."""
    now = now or timezone.now()
    local_midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = local_midnight - timedelta(days=1), local_midnight
    day = start.date().isoformat()
    admins = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    if not admins.exists():
        return 0
    figures = {"day": day, **digest_figures(start, end, now)}
    written = 0
    for admin in admins:
        from accounts.selectors import preferences_for

        made = notify(
            kind=Kind.DAILY_DIGEST, channel=Channel.EMAIL, subject_ref=f"digest:{day}",
            user=admin, email=admin.email,
            language=preferences_for(admin).language or settings.LANGUAGE_CODE,
            context=figures,
        )  # fmt: skip
        written += made is not None
    return written

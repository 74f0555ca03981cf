"""Notifications that follow from what happens on tickets.

Every change to a ticket leaves a timeline entry (tickets/services.py), so the timeline is where
notifications are noticed: a new entry is looked at once, in the transaction that wrote it, and
may write notification rows beside it. Their delivery is queued when that transaction commits.
"""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.selectors import display_name
from notifications.models import Channel, Kind
from notifications.services import notify, notify_agent
from tickets.models import EntryKind, Priority, Reason, Status, Ticket, TimelineEntry
from tickets.signals import agent_replied


def ticket_facts(ticket: Ticket) -> dict[str, Any]:
    """What a notice about `ticket` shows without loading it again."""
    customer = ticket.customer
    return {
        "number": ticket.pk,
        "subject": ticket.subject,
        "customer": (customer.name or customer.email) if customer else "",
        "team": ticket.team.name,
        "reason": ticket.reason,
    }


def team_agents(ticket: Ticket):
    # With what notify_agent reads of each: their language and their email choices.
    return ticket.team.members.filter(is_active=True).select_related(
        "profile", "notification_preferences"
    )


@receiver(post_save, sender=TimelineEntry)
def _entry_notifies(sender: Any, instance: TimelineEntry, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    handler = _HANDLERS.get(instance.kind)
    if handler is not None:
        handler(instance)


def _ticket_created(entry: TimelineEntry) -> None:
    # The entry was written with the ticket just made: no query for a ticket nobody hears of.
    if entry.ticket.priority == Priority.URGENT or entry.ticket.reason == Reason.DISPUTE:
        ticket = Ticket.objects.select_related("team", "customer").get(pk=entry.ticket_id)
        _tell_team_urgent(ticket, occasion="created", author_id=entry.author_id)


def _priority_changed(entry: TimelineEntry) -> None:
    if entry.data.get("to") == Priority.URGENT:
        ticket = Ticket.objects.select_related("team", "customer").get(pk=entry.ticket_id)
        _tell_team_urgent(ticket, occasion=f"escalated:{entry.pk}", author_id=entry.author_id)


def _tell_team_urgent(ticket: Ticket, *, occasion: str, author_id: int | None) -> None:
    facts = ticket_facts(ticket)
    for agent in team_agents(ticket).exclude(pk=author_id):
        notify_agent(
            kind=Kind.URGENT_TICKET, user=agent, ticket=ticket, subject_ref=f"ticket:{ticket.pk}",
            occasion=occasion, context=facts,
        )  # fmt: skip


def _assigned(entry: TimelineEntry) -> None:
    assignee_id = entry.data.get("to")
    if not assignee_id or assignee_id == entry.author_id:
        return  # unassigned, or the agent took it themselves
    ticket = Ticket.objects.select_related("team", "customer", "assignee").get(pk=entry.ticket_id)
    if ticket.assignee is None or ticket.assignee.pk != assignee_id:
        return
    notify_agent(
        kind=Kind.TICKET_ASSIGNED, user=ticket.assignee, ticket=ticket,
        subject_ref=f"ticket:{ticket.pk}", occasion=f"entry:{entry.pk}",
        context=ticket_facts(ticket),
    )  # fmt: skip


def _customer_wrote(entry: TimelineEntry) -> None:
    if "rating" in entry.data:
        return  # a survey answer, not a message to answer
    if entry.data.get("assignee_in_chat"):
        return  # the chat saw the ticket's assignee in it, reading as it arrives
    ticket = (
        Ticket.objects.select_related("team", "customer", "assignee")
        .filter(pk=entry.ticket_id, assignee__isnull=False)
        .first()
    )
    if ticket is None:
        return  # nobody to tell
    notify_agent(
        kind=Kind.CUSTOMER_REPLIED, user=ticket.assignee, ticket=ticket,
        subject_ref=f"ticket:{ticket.pk}", occasion=f"entry:{entry.pk}",
        context=ticket_facts(ticket),
    )  # fmt: skip


def _email_the_customer(
    entry: TimelineEntry, *, kind: Kind, subject_ref: str, occasion: str = "",
    context: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """A customer email about the entry's ticket, in the customer's language, if they have an
    address."""
    ticket = Ticket.objects.select_related("customer").get(pk=entry.ticket_id)
    customer = ticket.customer
    if customer is None or not customer.email:
        return
    notify(
        kind=kind, channel=Channel.EMAIL, subject_ref=subject_ref, occasion=occasion,
        customer=customer, email=customer.email, ticket=ticket, language=customer.locale,
        context=context,
    )  # fmt: skip


def _status_changed(entry: TimelineEntry) -> None:
    if entry.data.get("to") == Status.SOLVED:
        _email_the_customer(entry, kind=Kind.TICKET_SOLVED, subject_ref=f"ticket:{entry.ticket_id}",
                            occasion=f"entry:{entry.pk}")  # fmt: skip


def _payment_event(entry: TimelineEntry) -> None:
    payment_id = entry.data.get("payment")
    if entry.data.get("kind") == "payment_failed" and payment_id:
        # One email per failed payment and ticket, however many events report the failure.
        _email_the_customer(
            entry, kind=Kind.PAYMENT_FAILED, subject_ref=f"payment:{payment_id}",
            occasion=f"ticket:{entry.ticket_id}", context={"payment": payment_id},
        )  # fmt: skip


_HANDLERS = {
    EntryKind.TICKET_CREATED: _ticket_created,
    EntryKind.PRIORITY_CHANGE: _priority_changed,
    EntryKind.ASSIGNMENT_CHANGE: _assigned,
    EntryKind.CUSTOMER_MESSAGE: _customer_wrote,
    EntryKind.STATUS_CHANGE: _status_changed,
    EntryKind.PAYMENT_EVENT: _payment_event,
}


@receiver(agent_replied)
def _reply_is_emailed(sender: Any, entry: TimelineEntry, **kwargs: Any) -> None:
    """An agent's reply written on the ticket goes to the customer by email."""
    author = entry.author
    _email_the_customer(
        entry, kind=Kind.AGENT_REPLIED, subject_ref=f"entry:{entry.pk}",
        context={
            "body": entry.body,
            "agent": display_name(author) if author else "",
        },
    )  # fmt: skip


def transcript_requested(*, conversation: Any, entry: TimelineEntry) -> None:
    """The customer asked for the chat's transcript (chat/services.py)."""
    customer = conversation.customer
    if not customer.email:
        return
    notify(
        kind=Kind.CHAT_TRANSCRIPT, channel=Channel.EMAIL,
        subject_ref=f"conversation:{conversation.pk}", occasion=f"entry:{entry.pk}",
        customer=customer, email=customer.email, ticket=conversation.ticket,
        language=conversation.language, context={"conversation": conversation.pk},
    )  # fmt: skip

"""Every write to a ticket goes through these functions, and each one leaves a timeline entry."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from accounts.selectors import display_name
from chat.redaction import redact_pans
from payments.models import Customer, Payment, WebhookEvent
from tickets.live import ticket_changed
from tickets.models import (
    OPEN_STATUSES,
    Channel,
    EntryKind,
    Priority,
    Reason,
    Status,
    Tag,
    Team,
    Ticket,
    TimelineEntry,
)
from tickets.signals import agent_replied
from tickets.sla import SLA_FIELDS, sla_first_response, sla_set_targets, sla_status_changed

_UNCHANGED: Any = object()


def _english(choice: models.Choices) -> str:
    """A choice's label in English: timeline bodies are stored once, then read in any language."""
    with translation.override("en"):
        return str(choice.label)


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
            resolution_deadline=due_at,
        )
        sla_set_targets(ticket, now=ticket.created_at, pauses=())
        ticket.save(update_fields=SLA_FIELDS)
        if payments:
            ticket.payments.add(*payments)
        ticket_add_entry(
            ticket=ticket,
            kind=EntryKind.TICKET_CREATED,
            author=author,
            body=(
                f"Ticket opened ({_english(Reason(reason)).lower()},"
                f" {_english(Channel(channel)).lower()})."
            ),
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
    ticket_changes: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append to the timeline. A provider event is appended to a given ticket at most once.
    Card numbers in the body are masked before it is stored. `ticket_changes` are more of the
    ticket's fields (values or expressions) to update with its `updated_at`, in one statement."""
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
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now(), **(ticket_changes or {}))
    ticket_changed(ticket_id=ticket.pk, team_ids=(ticket.team_id,), change=kind)
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


class AssignmentError(ValueError):
    pass


ERROR_ASSIGNEE_NOT_ON_TEAM = gettext_lazy(
    "That agent is not on the ticket's team and could not see it."
)


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
    """Change fields of a ticket; each real change is recorded on the timeline with its author.

    `due_at` is a fixed resolution deadline (a dispute's evidence deadline less the margin), or
    None for the policy's resolution target. The SLA due times follow a change of priority, team
    or deadline, and of status (tickets.sla).

    Raises AssignmentError when the assignee could not see the ticket: only staff and members of
    the ticket's team (after the change) may have it."""
    with transaction.atomic():
        # With what the SLA clock reads when it moves (reopening, a new priority or team).
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("team", "sla_policy")
            .get(pk=ticket.pk)
        )
        status_before = ticket.status
        sla_inputs_before = (ticket.priority, ticket.team_id, ticket.resolution_deadline)
        if assignee is not _UNCHANGED and assignee is not None:
            team_after = team or ticket.team
            if not (assignee.is_staff or assignee.teams.filter(pk=team_after.pk).exists()):
                raise AssignmentError(ERROR_ASSIGNEE_NOT_ON_TEAM)
        changes: list[tuple[EntryKind, str, dict[str, Any]]] = []
        if status and status != ticket.status:
            changes.append(
                (
                    EntryKind.STATUS_CHANGE,
                    f"Status: {_english(Status(ticket.status))} → {_english(Status(status))}",
                    {"from": ticket.status, "to": status},
                )
            )
            if status in OPEN_STATUSES:
                ticket.solved_at = None
            elif ticket.solved_at is None:
                ticket.solved_at = timezone.now()
            ticket.status = status
        if priority and priority != ticket.priority:
            changes.append(
                (
                    EntryKind.PRIORITY_CHANGE,
                    f"Priority: {_english(Priority(ticket.priority))}"
                    f" → {_english(Priority(priority))}",
                    {"from": ticket.priority, "to": priority},
                )
            )
            ticket.priority = priority
        if assignee is not _UNCHANGED and assignee != ticket.assignee:
            # The name agents see everywhere else in the workspace.
            name = display_name(assignee) if assignee else "nobody"
            changes.append(
                (
                    EntryKind.ASSIGNMENT_CHANGE,
                    f"Assigned to {name}",
                    {"from": ticket.assignee_id, "to": assignee.pk if assignee else None},
                )
            )
            ticket.assignee = assignee
        if team and team != ticket.team:
            # The queue of the team that let the ticket go must drop it too.
            ticket_changed(ticket_id=ticket.pk, team_ids=(ticket.team_id,), change="handed_off")
            changes.append(
                (
                    EntryKind.TEAM_CHANGE,
                    f"Team: {ticket.team} → {team}",
                    {"from": ticket.team_id, "to": team.pk},
                )
            )
            ticket.team = team
        if due_at is not _UNCHANGED:
            ticket.resolution_deadline = due_at
        now = timezone.now()
        if (ticket.priority, ticket.team_id, ticket.resolution_deadline) != sla_inputs_before:
            sla_set_targets(ticket, now=now)
        if ticket.status != status_before:
            sla_status_changed(ticket, previous=status_before, now=now)
        ticket.save()
        for kind, body, data in changes:
            ticket_add_entry(ticket=ticket, kind=kind, body=body, author=actor, data=data)
    return ticket


_NEW_BECOMES_OPEN = Case(When(status=Status.NEW, then=Value(Status.OPEN)), default=F("status"))


def ticket_reply(
    *, ticket: Ticket, author: AbstractBaseUser, body: str, from_chat: bool = False
) -> TimelineEntry:
    """A reply the customer sees; it opens a new ticket. The first one records the first
    response time.

    A reply written on the ticket goes to the customer by email and into the ticket's live chat
    when one is open (the `agent_replied` signal, which the notifications and chat apps hear).
    A reply written in the chat (`from_chat`) is already there, and is not emailed.
    """
    with transaction.atomic(savepoint=False):
        # Conditional updates: the caller's ticket instance may be stale. A first response it
        # shows is skipped: once recorded, it stays.
        entry = ticket_add_entry(
            ticket=ticket, kind=EntryKind.AGENT_REPLY, body=body, author=author, public=True,
            ticket_changes={"status": _NEW_BECOMES_OPEN},
        )  # fmt: skip
        first = ticket.first_response_at is None and Ticket.objects.filter(
            pk=ticket.pk, first_response_at__isnull=True
        ).update(first_response_at=entry.created_at)
        if first:
            _record_first_response(ticket_id=ticket.pk, at=entry.created_at)
        if not from_chat:
            agent_replied.send(sender=TimelineEntry, entry=entry)
    return entry


def _record_first_response(*, ticket_id: int, at: datetime) -> None:
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    sla_first_response(ticket, at=at)
    ticket.save(update_fields=SLA_FIELDS)


def ticket_new_activity(*, ticket: Ticket, seen_entry_id: int, agent: AbstractBaseUser) -> list:
    """What others added to the ticket's timeline after entry `seen_entry_id` (a customer's
    message, a colleague's reply or note, a change): a reply written on an older view of the
    ticket may no longer fit."""
    return list(
        TimelineEntry.objects.filter(ticket=ticket, pk__gt=seen_entry_id)
        .exclude(author=agent)
        .select_related("author")
    )


def ticket_set_tags(*, ticket: Ticket, names: list[str], actor: AbstractBaseUser | None) -> Ticket:
    """Make the ticket's tags exactly `names` (slugs; new tags are created)."""
    wanted = sorted({name for name in names if name})
    with transaction.atomic():
        current = sorted(ticket.tags.values_list("name", flat=True))
        if wanted == current:
            return ticket
        tags = [Tag.objects.get_or_create(name=name)[0] for name in wanted]
        ticket.tags.set(tags)
        added = sorted(set(wanted) - set(current))
        removed = sorted(set(current) - set(wanted))
        parts = [f"+{name}" for name in added] + [f"-{name}" for name in removed]
        ticket_add_entry(
            ticket=ticket,
            kind=EntryKind.TAGS_CHANGE,
            body="Tags: " + " ".join(parts),
            author=actor,
            data={"added": added, "removed": removed},
        )
    return ticket


def ticket_add_tag(*, ticket: Ticket, name: str, actor: AbstractBaseUser | None) -> Ticket:
    current = list(ticket.tags.values_list("name", flat=True))
    return ticket_set_tags(ticket=ticket, names=[*current, name], actor=actor)


class MergeError(ValueError):
    pass


ERROR_MERGE_SELF = gettext_lazy("A ticket cannot be merged into itself.")
ERROR_MERGE_MERGED = gettext_lazy(
    "That ticket was merged already; merge into the ticket it points to."
)


def ticket_merge(*, source: Ticket, target: Ticket, actor: AbstractBaseUser | None) -> Ticket:
    """Merge a duplicate `source` into `target`: its timeline, payments and tags move to
    `target`, and `source` is closed and points to `target`. Returns `target`."""
    if source.pk == target.pk:
        raise MergeError(ERROR_MERGE_SELF)
    with transaction.atomic():
        # Lock both in id order, so two agents merging the pair both ways cannot deadlock.
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update()
            .filter(pk__in=(source.pk, target.pk))
            .order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id or target.merged_into_id:
            raise MergeError(ERROR_MERGE_MERGED)
        # A provider event already on the target stays where it is: it is on a timeline once.
        events_on_target = TimelineEntry.objects.filter(
            ticket=target, webhook_event__isnull=False
        ).values("webhook_event_id")
        TimelineEntry.objects.filter(ticket=source).exclude(
            webhook_event_id__in=events_on_target
        ).update(ticket=target)
        target.payments.add(*source.payments.all())
        target.tags.add(*source.tags.all())
        if target.customer_id is None and source.customer_id:
            target.customer_id = source.customer_id
            target.save(update_fields=["customer", "updated_at"])
        # Tickets merged into the source earlier now point where it points: no chains.
        Ticket.objects.filter(merged_into=source).update(merged_into=target)
        source.merged_into = target
        source.status = Status.CLOSED
        source.solved_at = source.solved_at or timezone.now()
        source.due_at = None  # its targets carry on in the target's
        source.save(update_fields=["merged_into", "status", "solved_at", "due_at", "updated_at"])
        ticket_add_entry(
            ticket=source,
            kind=EntryKind.MERGE,
            body=f"Merged into #{target.pk}",
            author=actor,
            data={"into": target.pk},
        )
        ticket_add_entry(
            ticket=target,
            kind=EntryKind.MERGE,
            body=f"#{source.pk} merged into this ticket",
            author=actor,
            data={"from": source.pk},
        )
    return target


def ticket_bulk_update(
    *,
    tickets: list[Ticket],
    actor: AbstractBaseUser,
    status: Status | None = None,
    assignee: Any = _UNCHANGED,
    add_tag: str = "",
) -> int:
    """Apply the same change to several tickets, each recorded on its own timeline. Returns how
    many changed: a ticket whose team the assignee is not on is left as it was."""
    changed = 0
    with transaction.atomic():
        for ticket in tickets:
            try:
                with transaction.atomic():
                    ticket_update(ticket=ticket, actor=actor, status=status, assignee=assignee)
            except AssignmentError:
                continue
            if add_tag:
                ticket_add_tag(ticket=ticket, name=add_tag, actor=actor)
            changed += 1
    return changed


def ticket_note(*, ticket: Ticket, author: AbstractBaseUser, body: str) -> TimelineEntry:
    """An internal note: agents see it, the customer never does."""
    return ticket_add_entry(
        ticket=ticket, kind=EntryKind.INTERNAL_NOTE, body=body, author=author, public=False
    )

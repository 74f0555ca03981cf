"""Reads of tickets. "May this person see this ticket" is decided here and nowhere else."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When

from payments.models import Payment
from tickets.models import Priority, Ticket, TimelineEntry

# Orderings the list accepts; a leading "-" reverses. Priority sorts by urgency, not by name.
TICKET_ORDERINGS = ("due_at", "priority", "updated_at", "created_at")
DEFAULT_TICKET_ORDERING = "-created_at"

_PRIORITY_RANK = Case(
    *(When(priority=priority, then=Value(rank)) for rank, priority in enumerate(Priority)),
    output_field=IntegerField(),
)


def _tickets_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Ticket]:
    """Staff see every ticket; any other agent sees the tickets of their teams."""
    if not (user.is_authenticated and user.is_active):
        return Ticket.objects.none()
    if user.is_staff:
        return Ticket.objects.all()
    # A ticket has one team and a user is in a team once, so this join never repeats a ticket.
    return Ticket.objects.filter(team__members=user)


def ticket_list(
    *, user: AbstractBaseUser | AnonymousUser, filters: Mapping[str, Any] | None = None
) -> QuerySet[Ticket]:
    """The tickets `user` may see, filtered and ordered, ready for a list page.

    `filters` keys, all optional: status, priority, reason, team (id), assignee (a user id,
    "me" or "none"), provider (of any of its payments), customer_email (exact, any case),
    q (free text over subject, customer email and name, payment provider id) and ordering
    (one of TICKET_ORDERINGS, "-" for descending).

    Related rows are fetched up front, so a page costs the same number of queries whatever
    its size.
    """
    filters = filters or {}
    tickets = _tickets_visible_to(user)

    for field in ("status", "priority", "reason"):
        if filters.get(field):
            tickets = tickets.filter(**{field: filters[field]})
    if filters.get("team"):
        tickets = tickets.filter(team_id=filters["team"])
    assignee = filters.get("assignee")
    if assignee == "me":
        tickets = tickets.filter(assignee_id=user.pk)
    elif assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=assignee)
    if filters.get("customer_email"):
        tickets = tickets.filter(customer__email__iexact=filters["customer_email"])
    # Filters through payments use subqueries: a join would repeat a ticket once per payment.
    if filters.get("provider"):
        tickets = tickets.filter(pk__in=_ticket_ids_with_payments(provider=filters["provider"]))
    if q := (filters.get("q") or "").strip():
        tickets = tickets.filter(
            Q(subject__icontains=q)
            | Q(customer__email__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(pk__in=_ticket_ids_with_payments(provider_payment_id__icontains=q))
        )

    return (
        tickets.select_related("customer", "team", "assignee")
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("pk")))
        .order_by(*_ordering(filters.get("ordering") or DEFAULT_TICKET_ORDERING))
    )


def ticket_get_for_agent(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> Ticket | None:
    """The ticket with its timeline, or None if it does not exist or `user` may not see it.

    Callers answer both cases with a 404, so a ticket's existence never leaks to outsiders.
    """
    return _with_details(_tickets_visible_to(user)).filter(pk=pk).first()


def ticket_reload(*, ticket: Ticket) -> Ticket:
    """A fresh copy of a ticket with its timeline, after a change.

    Only for a ticket the caller was allowed to see before changing it: an agent who hands a
    ticket to another team still gets to see the result of their own change.
    """
    return _with_details(Ticket.objects.all()).get(pk=ticket.pk)


def _with_details(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related("customer", "team", "assignee").prefetch_related(
        Prefetch("payments", queryset=Payment.objects.order_by("pk")),
        Prefetch("timeline", queryset=TimelineEntry.objects.select_related("author")),
    )


def _ticket_ids_with_payments(**payment_lookups: Any) -> QuerySet:
    through = Ticket.payments.through
    lookups = {f"payment__{name}": value for name, value in payment_lookups.items()}
    return through.objects.filter(**lookups).values("ticket_id")


def _ordering(ordering: str) -> tuple[Any, ...]:
    field = ordering.removeprefix("-")
    if field not in TICKET_ORDERINGS:
        raise ValueError(f"unknown ticket ordering {ordering!r}")
    descending = ordering.startswith("-")
    expression = _PRIORITY_RANK if field == "priority" else F(field)
    # Tickets without a due date come last either way; the id keeps pages stable.
    key = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return (key, "-pk" if descending else "pk")

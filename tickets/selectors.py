"""Reads of tickets. "May this person see this ticket" is decided here and nowhere else."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    TextChoices,
    Value,
    When,
    Window,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payments.models import Customer, Payment, PaymentStatus
from tickets.models import (
    OPEN_STATUSES,
    EntryKind,
    Priority,
    Reason,
    Status,
    Team,
    Ticket,
    TimelineEntry,
)

# Orderings the list accepts; a leading "-" reverses. Priority sorts by urgency, not by name.
TICKET_ORDERINGS = ("due_at", "priority", "updated_at", "created_at")
DEFAULT_TICKET_ORDERING = "-created_at"

# What free-text search reads of the timeline: what people wrote, not the system's entries.
SEARCHED_ENTRY_KINDS = (EntryKind.CUSTOMER_MESSAGE, EntryKind.AGENT_REPLY, EntryKind.INTERNAL_NOTE)


class QueueView(TextChoices):
    MINE = "mine", _("My open tickets")
    UNASSIGNED = "unassigned", _("Unassigned")
    OPEN = "open", _("All open")
    DISPUTES = "disputes", _("Disputes")
    BREACHING = "breaching", _("Breaching SLA soon")
    SOLVED = "solved", _("Solved recently")


# Each view's default order: the work that is due first comes first; solved work newest first.
QUEUE_VIEW_ORDERING = {
    QueueView.MINE: "due_at",
    QueueView.UNASSIGNED: "due_at",
    QueueView.OPEN: "due_at",
    QueueView.DISPUTES: "due_at",
    QueueView.BREACHING: "due_at",
    QueueView.SOLVED: "-updated_at",
}

_PRIORITY_RANK = Case(
    *(When(priority=priority, then=Value(rank)) for rank, priority in enumerate(Priority)),
    output_field=IntegerField(),
)


def team_ids_heard_by(user: AbstractBaseUser) -> list[int]:
    """The teams whose live changes reach a user: every team for admins, their own for agents."""
    teams = Team.objects.all() if user.is_staff else user.teams.all()
    return list(teams.values_list("pk", flat=True))


def tickets_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Ticket]:
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

    `filters` keys, all optional: view (a QueueView), status, priority, reason, channel, team
    (id), assignee (a user id, "me" or "none"), provider (of any of its payments), tag (a name),
    created_after/created_before, due_after/due_before and solved_after/solved_before
    (datetimes), customer_email (exact, any case), q (free text over subject, customer email
    and name, payment provider id and what customers and agents wrote) and ordering (one of
    TICKET_ORDERINGS, "-" for descending; the view's own order by default).

    Related rows are fetched up front, so a page costs the same number of queries whatever
    its size.
    """
    filters = filters or {}
    tickets = tickets_visible_to(user)
    view = filters.get("view")
    if view:
        tickets = tickets.filter(_queue_view_condition(QueueView(view), user))

    for field in ("status", "priority", "reason", "channel"):
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
    if filters.get("tag"):
        tickets = tickets.filter(
            pk__in=Ticket.tags.through.objects.filter(tag__name=filters["tag"]).values("ticket_id")
        )
    for bound, lookup in (
        ("created_after", "created_at__gte"),
        ("created_before", "created_at__lt"),
        ("due_after", "due_at__gte"),
        ("due_before", "due_at__lt"),
        ("solved_after", "solved_at__gte"),
        ("solved_before", "solved_at__lt"),
    ):
        if filters.get(bound):
            tickets = tickets.filter(**{lookup: filters[bound]})
    if filters.get("customer_email"):
        tickets = tickets.filter(customer__email__iexact=filters["customer_email"])
    # Filters through payments use subqueries: a join would repeat a ticket once per payment.
    if filters.get("provider"):
        tickets = tickets.filter(pk__in=_ticket_ids_with_payments(provider=filters["provider"]))
    if q := (filters.get("q") or "").strip():
        tickets = tickets.filter(pk__in=_ticket_ids_matching(q))

    default_ordering = QUEUE_VIEW_ORDERING[QueueView(view)] if view else DEFAULT_TICKET_ORDERING
    return _with_list_rows(tickets).order_by(
        *_ordering(filters.get("ordering") or default_ordering)
    )


def ticket_list_slice(
    tickets: QuerySet[Ticket], *, start: int, stop: int
) -> tuple[list[Ticket], int]:
    """Rows `start` to `stop` of a `ticket_list` and how many tickets the whole list holds.

    For lists with many matches, such as a search: the first query orders and counts the ids
    alone (COUNT(*) OVER ()), the second loads the slice's rows with their customer, assignee,
    payments and tags. Counted in one query with the rows, every match would be joined to its
    customer and assignee before the sort kept a page of them. An empty slice counts 0.
    """
    counted = tickets.prefetch_related(None).annotate(total=Window(Count("pk")))
    ids_and_total = list(counted.values_list("pk", "total")[start:stop])
    if not ids_and_total:
        return [], 0
    ids = [pk for pk, _ in ids_and_total]
    rows = _with_list_rows(Ticket.objects.filter(pk__in=ids)).in_bulk()
    return [rows[pk] for pk in ids], ids_and_total[0][1]


def queue_view_counts(*, user: AbstractBaseUser | AnonymousUser) -> dict[str, int]:
    """How many tickets each queue view holds for `user`, in one query."""
    views = {view: _queue_view_condition(view, user) for view in QueueView}
    # Every view holds open tickets or recently solved ones: counting only those reads a few
    # thousand rows through two indexes instead of every ticket the user may see.
    in_some_view = views[QueueView.OPEN] | views[QueueView.SOLVED]
    return (
        tickets_visible_to(user)
        .filter(in_some_view)
        .aggregate(
            **{view.value: Count("pk", filter=condition) for view, condition in views.items()}
        )
    )


def _queue_view_condition(view: QueueView, user: AbstractBaseUser | AnonymousUser) -> Q:
    now = timezone.now()
    is_open = Q(status__in=OPEN_STATUSES)
    if view == QueueView.MINE:
        return is_open & Q(assignee_id=user.pk)
    if view == QueueView.UNASSIGNED:
        return is_open & Q(assignee__isnull=True)
    if view == QueueView.OPEN:
        return is_open
    if view == QueueView.DISPUTES:
        return is_open & Q(reason=Reason.DISPUTE)
    if view == QueueView.BREACHING:
        window = timedelta(minutes=settings.SLA_WARNING_MINUTES)
        return is_open & Q(due_at__lte=now + window)
    # Solved recently.
    window = timedelta(days=settings.SOLVED_RECENTLY_DAYS)
    return Q(status__in=(Status.SOLVED, Status.CLOSED), solved_at__gte=now - window)


def tickets_breaching_sla(*, within: timedelta, now: datetime | None = None) -> QuerySet[Ticket]:
    """Open tickets with a target due within `within` from now, or already past due: soonest
    first, each annotated with `sla_target`, the target `due_at` is ("first_response" or
    "resolution"). A ticket waiting on the customer is not due, except by a fixed deadline."""
    now = now or timezone.now()
    return (
        Ticket.objects.filter(status__in=OPEN_STATUSES, due_at__lte=now + within)
        .annotate(
            sla_target=Case(
                When(
                    first_response_at__isnull=True,
                    first_response_due_at=F("due_at"),
                    then=Value("first_response"),
                ),
                default=Value("resolution"),
            )
        )
        .select_related("team", "assignee", "sla_policy")
        .order_by("due_at", "pk")
    )


def agents_for(*, user: AbstractBaseUser | AnonymousUser, team: Team | None = None) -> QuerySet:
    """The agents `user` may filter by or pick as an assignee: staff and the members of the
    teams `user` works (or of `team` only, for a ticket of that team: an assignee must be able
    to see the ticket)."""
    if not user.is_authenticated:
        return get_user_model().objects.none()
    if team is not None:
        members = Q(teams=team)
    elif user.is_staff:
        members = Q(teams__isnull=False)
    else:
        members = Q(teams__in=Team.objects.filter(members=user))
    return (
        get_user_model()
        .objects.filter(Q(is_staff=True) | members, is_active=True)
        .distinct()
        .order_by("username")
    )


def teams_for(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Team]:
    return Team.objects.order_by("name")


def customer_summary(
    *, user: AbstractBaseUser | AnonymousUser, customer: Customer, excluding: Ticket
) -> dict[str, Any]:
    """The side panel's customer: their other tickets `user` may see (newest 10) and lifetime
    payments, summed per currency."""
    other_tickets = list(
        tickets_visible_to(user)
        .filter(customer=customer)
        .exclude(pk=excluding.pk)
        .order_by("-created_at")
        .only("pk", "subject", "status", "created_at")[:10]
    )
    lifetime = list(
        Payment.objects.filter(customer=customer)
        .values("currency")
        .annotate(
            count=Count("pk"),
            paid_minor=Sum(
                "amount_minor",
                filter=Q(
                    status__in=(
                        PaymentStatus.SUCCEEDED,
                        PaymentStatus.PARTIALLY_REFUNDED,
                        PaymentStatus.DISPUTED,
                    )
                ),
                default=0,
            ),
            failed=Count("pk", filter=Q(status=PaymentStatus.FAILED)),
        )
        .order_by("currency")
    )
    return {"other_tickets": other_tickets, "lifetime_payments": lifetime}


def ticket_get_for_agent(
    *, user: AbstractBaseUser | AnonymousUser, pk: int, details: bool = True
) -> Ticket | None:
    """The ticket (with its timeline, payments and tags unless `details` is False: enough to
    check access before a change), or None if it does not exist or `user` may not see it.

    Callers answer both cases with a 404, so a ticket's existence never leaks to outsiders.
    """
    tickets = tickets_visible_to(user)
    if details:
        tickets = _with_details(tickets)
    return tickets.filter(pk=pk).first()


def ticket_reload(*, ticket: Ticket) -> Ticket:
    """A fresh copy of a ticket with its timeline, after a change.

    Only for a ticket the caller was allowed to see before changing it: an agent who hands a
    ticket to another team still gets to see the result of their own change.
    """
    return _with_details(Ticket.objects.all()).get(pk=ticket.pk)


def _with_list_rows(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What a row of the queue shows besides the ticket, fetched up front."""
    return tickets.select_related("customer", "team", "assignee").prefetch_related(
        Prefetch("payments", queryset=Payment.objects.order_by("pk")), "tags"
    )


def _with_details(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related(
        "customer", "team", "assignee", "merged_into", "sla_policy"
    ).prefetch_related(
        Prefetch(
            "payments",
            queryset=Payment.objects.order_by("pk").prefetch_related("disputes", "refunds"),
        ),
        Prefetch("timeline", queryset=TimelineEntry.objects.select_related("author")),
        "tags",
    )


def _ticket_ids_matching(q: str) -> QuerySet:
    """Ids of the tickets whose subject, customer email or name, payment provider id or what
    customers and agents wrote contains `q`, in any case.

    One UNION of lookups that each read one table, rather than one OR across joins: the OR has
    to test every ticket the user may see, while each lookup here is served by its own index (on
    PostgreSQL the trigram indexes of migration 0003) and only the matches meet the other filters.
    """
    customers = Customer.objects.filter(Q(email__icontains=q) | Q(name__icontains=q))
    # order_by(): a model's default ordering would sort each part for nothing.
    return (
        Ticket.objects.filter(subject__icontains=q)
        .order_by()
        .values("pk")
        .union(
            Ticket.objects.filter(customer__in=customers.values("pk")).order_by().values("pk"),
            _ticket_ids_with_payments(provider_payment_id__icontains=q).order_by(),
            TimelineEntry.objects.filter(kind__in=SEARCHED_ENTRY_KINDS, body__icontains=q)
            .order_by()
            .values("ticket_id"),
        )
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

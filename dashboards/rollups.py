"""Keeping the daily rollups (dashboards/models.py): a finished day's figures, counted once.

`rollup_days` counts days of the reporting time zone (settings.TIME_ZONE) with the same
definitions as dashboards.metrics and replaces their rows, and their months' rows, a month per
transaction and one rollup at a time, so running it again, or twice at once, leaves the same
rows. Beat runs `dashboards.tasks.rollup_dashboard` every night: yesterday, and the days before
it, which late changes (a rating, a late failure) may have touched. `manage.py
rollup_dashboard` fills or refreshes any range.

What a rollup cannot see: a change to a day older than the nightly window (a ticket solved
long ago and solved again today keeps counting on its first day until that day is rolled up
again).
"""

from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from chat.models import Conversation
from dashboards import histograms
from dashboards.metrics import HAPPY_RATINGS, recovered_in, within
from dashboards.models import (
    DailyAgent,
    DailyDurations,
    DailyPayments,
    DailyRecoveries,
    DailyRefunds,
    DailyRow,
    DailyTickets,
    Measure,
    RolledUpDay,
)
from dashboards.periods import Period, next_month
from notifications.models import Kind as NotificationKind
from notifications.models import Notification, SatisfactionRating
from notifications.models import Status as NotificationStatus
from payments.models import Payment, Refund, RefundStatus
from tickets.models import Ticket

# Late changes (a survey answered, a payment that fails days after it was made) land within
# about a week; older days are left as they were rolled up.
NIGHTLY_DAYS = 7

_TICKET_DIMENSIONS = ("team_id", "reason", "channel")


ROLLUPS: tuple[type[DailyRow], ...] = (
    DailyTickets, DailyAgent, DailyDurations, DailyPayments, DailyRecoveries, DailyRefunds,
)  # fmt: skip


def rollup_day(day: date) -> None:
    """Count `day` and replace its rows, and its month's rows. Only a finished day may be
    rolled up."""
    rollup_days(day, day, only_finished=False)


def rollup_days(first_day: date, last_day: date, *, only_finished: bool = True) -> int:
    """Roll up every day of [first_day, last_day] (only the finished ones, unless told
    otherwise: then a day not over is refused); return how many. One transaction per month:
    its days and its month rows change together."""
    with timezone.override(settings.TIME_ZONE):
        today = timezone.localdate()
        if only_finished:
            last_day = min(last_day, today - timedelta(days=1))
        elif last_day >= today:
            raise ValueError(f"{last_day} is not over yet in {settings.TIME_ZONE}")
        done, day = 0, first_day
        while day <= last_day:
            month_end = min(next_month(day.replace(day=1)) - timedelta(days=1), last_day)
            with transaction.atomic():
                _lock_rollups()
                while day <= month_end:
                    _replace_day(day)
                    day += timedelta(days=1)
                    done += 1
                for model in ROLLUPS:
                    _sum_month(model, month_end.replace(day=1))
    return done


def _lock_rollups() -> None:
    """One rollup at a time, until the transaction ends: two at once (the nightly task and the
    command) would each delete the rows and insert their own."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('dashboard-rollups', 0))")


def _replace_day(day: date) -> None:
    stretch = Period(day, day)
    rows = [
        *_daily_tickets(stretch),
        *_daily_agents(stretch),
        *_daily_durations(stretch),
        *_daily_payments(stretch),
        *_daily_recoveries(stretch),
        *_daily_refunds(stretch),
    ]
    for model in ROLLUPS:
        model.objects.filter(day=day, month=False).delete()
        model.objects.bulk_create([row for row in rows if type(row) is model])
    RolledUpDay.objects.update_or_create(
        day=day, defaults={"time_zone": settings.TIME_ZONE, "rolled_up_at": timezone.now()}
    )


def _sum_month(model: type[DailyRow], first: date) -> None:
    """Replace the month rows of the month starting on `first` by the sums of its day rows."""
    sums = (
        model.objects.filter(month=False, day__gte=first, day__lt=next_month(first))
        .values(*model.DIMENSIONS)
        .annotate(**{f"sum_{name}": Sum(name) for name in model.COUNTS})
        .order_by()
    )
    model.objects.filter(month=True, day=first).delete()
    model.objects.bulk_create(
        model(
            day=first,
            month=True,
            **{name: row[name] for name in model.DIMENSIONS},
            **{name: row[f"sum_{name}"] for name in model.COUNTS},
        )
        for row in sums
    )


def rollup_recent_days(days: int = NIGHTLY_DAYS) -> int:
    """Yesterday and the `days` − 1 days before it, in the reporting time zone."""
    with timezone.override(settings.TIME_ZONE):
        yesterday = timezone.localdate() - timedelta(days=1)
    return rollup_days(yesterday - timedelta(days=days - 1), yesterday)


def _rating_sums(rating: str) -> dict:
    return {
        "ratings": Count("pk", filter=Q(**{f"{rating}__isnull": False})),
        "happy_ratings": Count("pk", filter=Q(**{f"{rating}__in": HAPPY_RATINGS})),
        "rating_total": Sum(rating, default=0),
    }


def _daily_tickets(stretch: Period) -> list[DailyTickets]:
    rows: dict[tuple, dict[str, int]] = defaultdict(dict)

    def add(queryset, dimensions: tuple[str, ...], **counts) -> None:
        grouped = queryset.values(*dimensions).annotate(**counts).order_by()
        for row in grouped:
            key = tuple(row[name] for name in dimensions)
            for name in counts:
                rows[key][name] = row[name] or 0

    add(
        Ticket.objects.filter(within("created_at", stretch)), _TICKET_DIMENSIONS, opened=Count("pk")
    )
    add(Ticket.objects.filter(within("solved_at", stretch)), _TICKET_DIMENSIONS, solved=Count("pk"))
    for target in ("first_response", "resolution"):
        add(
            Ticket.objects.filter(within(f"{target}_due_at", stretch)),
            _TICKET_DIMENSIONS,
            **{
                f"{target}_decided": Count("pk", filter=Q(**{f"{target}_breached__isnull": False})),
                f"{target}_met": Count("pk", filter=Q(**{f"{target}_breached": False})),
            },
        )
    on_ticket = ("ticket__team_id", "ticket__reason", "ticket__channel")
    add(
        Notification.objects.filter(
            within("sent_at", stretch),
            kind=NotificationKind.TICKET_SOLVED,
            status=NotificationStatus.SENT,
            ticket__isnull=False,
        ),
        on_ticket,
        surveys=Count("pk"),
    )
    add(
        SatisfactionRating.objects.filter(within("created_at", stretch)),
        on_ticket,
        **_rating_sums("rating"),
    )
    chats = Conversation.objects.all()
    on_chat = ("team_id", "ticket__reason", "ticket__channel")
    add(chats.filter(within("closed_at", stretch)), on_chat, chats_closed=Count("pk"))
    add(
        chats.filter(within("rated_at", stretch), rating__isnull=False),
        on_chat,
        **{f"chat_{name}": value for name, value in _rating_sums("rating").items()},
    )
    return [
        DailyTickets(
            day=stretch.first_day, team_id=team_id, reason=reason, channel=channel, **counts
        )
        for (team_id, reason, channel), counts in rows.items()
    ]


def _daily_agents(stretch: Period) -> list[DailyAgent]:
    rows: dict[int, dict[str, int]] = defaultdict(dict)

    def add(queryset, agent: str, **counts) -> None:
        for row in queryset.values(agent).annotate(**counts).order_by():
            rows[row[agent]].update({name: row[name] or 0 for name in counts})

    assigned = Ticket.objects.filter(assignee__isnull=False)
    add(assigned.filter(within("solved_at", stretch)), "assignee_id", solved=Count("pk"))
    survey_sums = _rating_sums("rating")
    add(
        SatisfactionRating.objects.filter(
            within("created_at", stretch), ticket__assignee__isnull=False
        ),
        "ticket__assignee_id",
        **{f"survey_{name}": value for name, value in survey_sums.items()},
    )
    chats = Conversation.objects.filter(assignee__isnull=False)
    add(
        chats.filter(within("rated_at", stretch), rating__isnull=False),
        "assignee_id",
        **{f"chat_{name}": value for name, value in survey_sums.items()},
    )
    add(chats.filter(within("accepted_at", stretch)), "assignee_id", chats_handled=Count("pk"))
    made = []
    for agent_id, counts in rows.items():
        made.append(
            DailyAgent(
                day=stretch.first_day,
                agent_id=agent_id,
                solved=counts.get("solved", 0),
                chats_handled=counts.get("chats_handled", 0),
                **{
                    name: counts.get(f"survey_{name}", 0) + counts.get(f"chat_{name}", 0)
                    for name in survey_sums
                },
            )
        )
    return made


def _daily_durations(stretch: Period) -> list[DailyDurations]:
    made = []
    for measure, moment in (
        (Measure.FIRST_RESPONSE, "first_response_at"),
        (Measure.RESOLUTION, "solved_at"),
    ):
        rows = Ticket.objects.filter(within(moment, stretch)).values_list(
            "assignee_id", moment, "created_at"
        )
        desk: dict[int, int] = defaultdict(int)
        per_agent: dict[tuple[int, int], int] = defaultdict(int)
        for agent_id, at, created_at in rows:
            bucket = histograms.bucket_of(at - created_at)
            desk[bucket] += 1
            if agent_id is not None and measure == Measure.FIRST_RESPONSE:
                per_agent[(agent_id, bucket)] += 1
        made += [
            DailyDurations(day=stretch.first_day, measure=measure, bucket=bucket, tickets=count)
            for bucket, count in desk.items()
        ]
        made += [
            DailyDurations(
                day=stretch.first_day, measure=measure, agent_id=agent_id, bucket=bucket, tickets=n
            )
            for (agent_id, bucket), n in per_agent.items()
        ]
    return made


def _daily_payments(stretch: Period) -> list[DailyPayments]:
    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    created = (
        Payment.objects.filter(within("created_at", stretch))
        .values("provider", "failure_code")
        .annotate(
            created=Count("pk"), created_failed=Count("pk", filter=Q(failed_at__isnull=False))
        )
        .order_by()
    )
    for row in created:
        rows[(row["provider"], row["failure_code"])] |= {
            "created": row["created"],
            "created_failed": row["created_failed"],
        }
    failed = (
        Payment.objects.filter(within("failed_at", stretch))
        .values("provider", "failure_code")
        .annotate(failed=Count("pk"))
        .order_by()
    )
    for row in failed:
        rows[(row["provider"], row["failure_code"])]["failed"] = row["failed"]
    return [
        DailyPayments(day=stretch.first_day, provider=provider, failure_code=code, **counts)
        for (provider, code), counts in rows.items()
    ]


def _daily_recoveries(stretch: Period) -> list[DailyRecoveries]:
    rows = (
        Payment.objects.filter(recovered_in(stretch))
        .annotate(failed_day=TruncDate("failed_at"))
        .values("failed_day", "provider", "currency")
        .annotate(recovered=Count("pk"), recovered_minor=Sum("recovered_amount_minor", default=0))
        .order_by()
    )
    return [DailyRecoveries(day=stretch.first_day, **row) for row in rows]


def _daily_refunds(stretch: Period) -> list[DailyRefunds]:
    rows = (
        Refund.objects.filter(within("created_at", stretch), status=RefundStatus.FAILED)
        .values("provider", "currency")
        .annotate(failed=Count("pk"), failed_minor=Sum("amount_minor", default=0))
        .order_by()
    )
    return [DailyRefunds(day=stretch.first_day, **row) for row in rows]

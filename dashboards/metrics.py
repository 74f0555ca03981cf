"""The dashboard's figures, each counted by the database for a period and the one before it.

Every function takes a `Period` (whole days in the reporting time zone), `Filters` and a
`Source`, and runs a fixed number of queries whatever the data size: rows are grouped and
counted in SQL, and only the groups come back (days × reasons × channels at most). The `Source`
says which run of the span's days is summed from the daily rollups (dashboards/rollups.py
counts them with these same definitions); the other days, today at least, are counted live
from the tickets and payments. A filter the rollups do not have as a dimension makes that
figure live for every day. "Now" figures (open disputes, SLA breaching now, the latest
comments and recoveries) are always live: they are few and indexed.

What each figure counts:

- **Opened / solved**: tickets created (`created_at`) / solved (`solved_at`) in the period, per
  day, reason and channel.
- **First response / resolution time**: calendar time from a ticket's creation to its first
  reply / to its solving, for the tickets first answered / solved in the period: median and
  90th percentile (linear interpolation, as PostgreSQL's percentile_cont).
- **SLA compliance**: of the targets (first response, resolution) due in the period and decided
  (met, or recorded as breached), the share met. *Breached now*: open tickets whose next target
  is past due; *breaching soon*: due within `SLA_WARNING_MINUTES` (tickets.selectors.
  tickets_breaching_sla).
- **Failure rate**: payments created in the period that failed at least once (`failed_at`), out
  of all payments created in the period, by provider and by decline code.
- **Disputes**: open ones now, with their evidence deadlines and the amount at stake; won and
  lost ones whose last provider event (the outcome) came in the period.
- **Refunds failed**: refunds created in the period that failed.

**Recovered revenue.** A payment counts as recovered in the period when all of this holds:

1. it failed (`failed_at`, its latest failure) and later succeeded: `recovered_at` (the first
   success after that failure) is after `failed_at`, and falls in the period;
2. between the failure and the success (`failed_at` ≤ contact < `recovered_at`) the customer
   had a support contact: a live chat started by the payment's customer, or a customer message
   or agent reply on a ticket linked to the payment or belonging to its customer.

A payment that succeeded without such a contact is not counted (it recovered by itself), nor one
whose only contact came before the failure, nor one that failed again and never succeeded. It is
counted once, in the period of its success, with `recovered_amount_minor` in its own currency
(amounts are never added across currencies). Its *share of failed payments* is the number
recovered divided by the failed payments the period dealt with: those that failed in it, and
those recovered in it whose failure came earlier.

- **CSAT**: the share of ratings that are 4 or 5 (and the mean, 1–5) of the ticket surveys
  answered (notifications.SatisfactionRating, `created_at`) and chats rated (`rated_at`) in
  the period; *response rate*: those ratings divided by the surveys offered in the period
  (a "request solved" email sent, a chat closed).
- **Agents**: per assignee, tickets solved, median first response, CSAT and chats accepted.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from chat.models import Conversation
from dashboards import histograms
from dashboards.models import (
    DailyAgent,
    DailyDurations,
    DailyPayments,
    DailyRecoveries,
    DailyRefunds,
    DailyTickets,
    Measure,
    RolledUpDay,
)
from dashboards.percentiles import percentiles
from dashboards.periods import Period, next_month
from notifications.models import Kind as NotificationKind
from notifications.models import Notification, SatisfactionRating
from notifications.models import Status as NotificationStatus
from payments.models import Dispute, DisputeOutcome, Payment, Refund, RefundStatus
from tickets.models import EntryKind, Ticket, TimelineEntry
from tickets.selectors import tickets_breaching_sla

HAPPY_RATINGS = (4, 5)
# What counts as the customer talking to support, on a ticket's timeline.
CONTACT_ENTRY_KINDS = (EntryKind.CUSTOMER_MESSAGE, EntryKind.AGENT_REPLY)
OPEN_DISPUTES_LISTED = 20
LATEST_COMMENTS = 10
LATEST_RECOVERED = 20


@dataclass(frozen=True)
class Filters:
    """What the figures are narrowed to; `assignee_id` gives an agent their own figures."""

    team_id: int | None = None
    provider: str = ""
    channel: str = ""
    reason: str = ""
    assignee_id: int | None = None

    @property
    def narrows_tickets(self) -> bool:
        return bool(self.team_id or self.channel or self.reason or self.assignee_id)


def within(name: str, period: Period) -> Q:
    """`name` (a moment) in the whole days of `period`."""
    return Q(**{f"{name}__gte": period.start, f"{name}__lt": period.end})


@dataclass(frozen=True)
class Source:
    """Where a figure's days come from. The span is the period and the one before it; a run of
    its days, `rolled`, is summed from the daily rollups, the days before and after it (today
    at least) are counted live from the tickets and payments."""

    period: Period
    rolled: Period | None = None

    @property
    def span(self) -> Period:
        return Period(self.period.previous().first_day, self.period.last_day)

    def live(self, name: str, stretch: Period | None = None) -> Q:
        """`name` in `stretch` (default: the span), on the days counted live."""
        q = within(name, stretch or self.span)
        if self.rolled is None:
            return q
        outside = Q(**{f"{name}__gte": self.rolled.end})
        if self.rolled.first_day > self.span.first_day:
            outside |= Q(**{f"{name}__lt": self.rolled.start})
        return q & outside

    def all_live(self) -> "Source":
        return Source(self.period)

    def rows(self, model: type, *, daily: bool = False, **filters: Any):
        """The rollup rows of the rolled days (none when nothing is rolled up): a month's row
        for each whole month of the period or the one before it, day rows for the other days
        (only day rows when `daily`)."""
        months, days = self._parts(daily=daily)
        return model.objects.filter(months | days, **filters)

    def rows_apart(self, model: type, *, current_only: bool = False, **filters: Any) -> list:
        """The same rows as `rows` (of the period alone if `current_only`), the month rows and
        the day rows in two querysets: each is one index condition, where together they would
        scan every row of the days."""
        months, days = self._parts(daily=False, current_only=current_only)
        return [model.objects.filter(months, **filters), model.objects.filter(days, **filters)]

    def _parts(self, *, daily: bool, current_only: bool = False) -> tuple[Q, Q]:
        nothing = Q(pk__in=[])
        months, days = nothing, nothing
        if self.rolled is None:
            return months, days
        stretches = [self.period] if current_only else [self.period.previous(), self.period]
        for stretch in stretches:
            first = max(stretch.first_day, self.rolled.first_day)
            last = min(stretch.last_day, self.rolled.last_day)
            if first > last:
                continue
            whole = [] if daily else whole_months(first, last)
            if not whole:
                days |= Q(month=False, day__gte=first, day__lte=last)
                continue
            months |= Q(month=True, day__in=whole)
            # Listed, not two ranges: a list is one index condition, an OR of ranges is not.
            around = [*Period(first, whole[0] - timedelta(days=1)).days]
            around += Period(next_month(whole[-1]), last).days
            days |= Q(month=False, day__in=around)
        return months, days

    def rolled_in(self, stretch: Period) -> Q:
        """Rollup rows of the days of `stretch`."""
        return Q(day__gte=stretch.first_day, day__lte=stretch.last_day)


def whole_months(first: date, last: date) -> list[date]:
    """The first days of the calendar months that lie whole within [first, last]."""
    month = first.replace(day=1)
    if month < first:
        month = next_month(month)
    found = []
    while next_month(month) <= last + timedelta(days=1):
        found.append(month)
        month = next_month(month)
    return found


def rolled_days(period: Period, *, today: date) -> Period | None:
    """The run of days of the span (the period before `period`, then `period`) that the
    rollups answer: each rolled up in the reporting time zone, back from the span's last
    finished day to the first day that is not. One query."""
    if timezone.get_current_timezone_name() != settings.TIME_ZONE:
        return None  # the rollups' days are the reporting zone's days, not this reader's
    first = period.previous().first_day
    last = min(period.last_day, today - timedelta(days=1))
    days = set(
        RolledUpDay.objects.filter(
            day__gte=first, day__lte=last, time_zone=settings.TIME_ZONE
        ).values_list("day", flat=True)
    )
    start = last
    while start in days:
        start -= timedelta(days=1)
    return Period(start + timedelta(days=1), last) if start < last else None


def _rolled_tickets_q(filters: Filters) -> Q:
    """DailyTickets rows of the team, reason and channel filtered on (its columns are named as
    the ticket's)."""
    return _tickets_q(replace(filters, provider="", assignee_id=None))


def _rolled_payments_q(filters: Filters) -> Q:
    """Payment rollup rows of the provider filtered on."""
    return Q(provider=filters.provider) if filters.provider else Q()


def _current_or_previous(period: Period) -> Case:
    return Case(When(day__gte=period.first_day, then=Value("current")), default=Value("previous"))


def _tickets_q(filters: Filters, prefix: str = "") -> Q:
    """Tickets matching the filters; `prefix` to reach them through a relation ("ticket__")."""
    q = Q()
    for name, value in (
        ("team_id", filters.team_id),
        ("channel", filters.channel),
        ("reason", filters.reason),
        ("assignee_id", filters.assignee_id),
    ):
        if value:
            q &= Q(**{prefix + name: value})
    if filters.provider:
        # A subquery: a join through the payments would repeat a ticket once per payment.
        with_provider = Ticket.payments.through.objects.filter(payment__provider=filters.provider)
        q &= Q(**{prefix + "pk__in": with_provider.values("ticket_id")})
    return q


def _payments_q(filters: Filters, prefix: str = "") -> Q:
    """Payments of the provider; narrowed by the ticket filters to those on matching tickets."""
    q = Q(**{prefix + "provider": filters.provider}) if filters.provider else Q()
    if filters.narrows_tickets:
        tickets = Ticket.objects.filter(_tickets_q(Filters(**{**vars(filters), "provider": ""})))
        linked = Ticket.payments.through.objects.filter(ticket__in=tickets)
        q &= Q(**{prefix + "pk__in": linked.values("payment_id")})
    return q


def _conversations_q(filters: Filters) -> Q:
    """Chats of the team and agent, on tickets of the channel, reason and provider."""
    q = Q()
    if filters.team_id:
        q &= Q(team_id=filters.team_id)
    if filters.assignee_id:
        q &= Q(assignee_id=filters.assignee_id)
    on_ticket = Filters(channel=filters.channel, reason=filters.reason, provider=filters.provider)
    return q & _tickets_q(on_ticket, prefix="ticket__")


def _duration(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _which_period(name: str, period: Period) -> Case:
    return Case(
        When(**{f"{name}__gte": period.start}, then=Value("current")), default=Value("previous")
    )


def share(part: int | None, whole: int | None) -> float | None:
    return part / whole if whole else None


def _summed(rows: list[dict[str, Any]], key: str) -> list[tuple[Any, dict[str, int]]]:
    """Rows of counts (from the rollups and live) added up per `key`: [(key, counts)]."""
    sums: dict[Any, dict[str, int]] = {}
    for row in rows:
        counts = sums.setdefault(row[key], defaultdict(int))
        for name, value in row.items():
            if name != key:
                counts[name] += value or 0
    return [(value, dict(counts)) for value, counts in sums.items()]


# Volume ------------------------------------------------------------------------------------


@dataclass
class Volume:
    days: list[date]
    # {(day, reason, channel): count} for the period; totals for both periods.
    opened_by_day: dict[tuple[date, str, str], int]
    solved_by_day: dict[tuple[date, str, str], int]
    opened: int
    solved: int
    opened_previous: int
    solved_previous: int

    def per_day(self, which: str) -> dict[date, int]:
        counts = dict.fromkeys(self.days, 0)
        for (day, _reason, _channel), count in getattr(self, f"{which}_by_day").items():
            counts[day] += count
        return counts

    def per(self, which: str, dimension: str) -> dict[str, int]:
        """Counts per reason or channel (`dimension`) of the opened or solved tickets."""
        position = {"reason": 1, "channel": 2}[dimension]
        counts: dict[str, int] = defaultdict(int)
        for key, count in getattr(self, f"{which}_by_day").items():
            counts[key[position]] += count
        return dict(counts)

    def per_day_and(self, which: str, dimension: str) -> dict[str, dict[date, int]]:
        position = {"reason": 1, "channel": 2}[dimension]
        counts: dict[str, dict[date, int]] = {}
        for key, count in getattr(self, f"{which}_by_day").items():
            counts.setdefault(key[position], dict.fromkeys(self.days, 0))[key[0]] += count
        return counts


def volume(period: Period, filters: Filters, source: Source | None = None) -> Volume:
    """Tickets opened and solved per day, reason and channel (two queries, and two more over
    the rollups)."""
    source = source or Source(period)
    if filters.provider or filters.assignee_id:
        source = source.all_live()  # not dimensions of the rollups
    rolled = source.rows(DailyTickets, daily=True).filter(
        _rolled_tickets_q(filters), source.rolled_in(period)
    )
    per_day = list(
        rolled.values("day", "reason", "channel")
        .annotate(opened_sum=Sum("opened"), solved_sum=Sum("solved"))
        .order_by()
    )
    before = (
        source.rows(DailyTickets)
        .filter(_rolled_tickets_q(filters), source.rolled_in(period.previous()))
        .aggregate(opened=Sum("opened", default=0), solved=Sum("solved", default=0))
    )
    found = {}
    for which, moment in (("opened", "created_at"), ("solved", "solved_at")):
        live = (
            Ticket.objects.filter(_tickets_q(filters), source.live(moment))
            .annotate(day=TruncDate(moment))
            .values("day", "reason", "channel")
            .annotate(count=Count("pk"))
            .order_by()
        )
        current, previous = {}, before[which]
        for row in per_day:
            if row[f"{which}_sum"]:
                current[(row["day"], row["reason"], row["channel"])] = row[f"{which}_sum"]
        for row in live:
            if row["day"] >= period.first_day:
                current[(row["day"], row["reason"], row["channel"])] = row["count"]
            else:
                previous += row["count"]
        found[which] = (current, previous)
    return Volume(
        days=period.days,
        opened_by_day=found["opened"][0],
        solved_by_day=found["solved"][0],
        opened=sum(found["opened"][0].values()),
        solved=sum(found["solved"][0].values()),
        opened_previous=found["opened"][1],
        solved_previous=found["solved"][1],
    )


# Speed and SLA -----------------------------------------------------------------------------


@dataclass
class Speed:
    # {"current"|"previous": {0.5: timedelta, 0.9: timedelta}}; missing without any ticket.
    first_response: dict[str, dict[float, timedelta]]
    resolution: dict[str, dict[float, timedelta]]
    # Read from the rollups' duration buckets for some days: within 5 %, not exact.
    approximate: bool = False

    def get(self, measure: str, which: str, fraction: float) -> timedelta | None:
        return getattr(self, measure).get(which, {}).get(fraction)


def speed(period: Period, filters: Filters, source: Source | None = None) -> Speed:
    """Median and 90th percentile of first response and resolution times (two queries; four
    with rollups). Exact when every day is counted live; over rolled-up days they come from
    the days' duration buckets, within 5 % (dashboards/histograms.py)."""
    source = source or Source(period)
    if filters.narrows_tickets or filters.provider:
        source = source.all_live()  # the rollups keep the whole desk's durations only
    found = {}
    for measure, moment in (("first_response", "first_response_at"), ("resolution", "solved_at")):
        tickets = Ticket.objects.filter(_tickets_q(filters), source.live(moment))
        if source.rolled is None:
            found[measure] = percentiles(
                tickets,
                of=_duration(moment, "created_at"),
                fractions=(0.5, 0.9),
                group=_which_period(moment, period),
            )
            continue
        counts = {"current": defaultdict(int), "previous": defaultdict(int)}
        for rows in source.rows_apart(DailyDurations, measure=measure, agent__isnull=True):
            rolled = (
                rows.values("bucket", which=_current_or_previous(period))
                .annotate(count=Sum("tickets"))
                .order_by()
            )
            for row in rolled:
                counts[row["which"]][row["bucket"]] += row["count"]
        for at, created_at in tickets.values_list(moment, "created_at"):
            which = "current" if at >= period.start else "previous"
            counts[which][histograms.bucket_of(at - created_at)] += 1
        found[measure] = {
            which: {fraction: histograms.percentile(buckets, fraction) for fraction in (0.5, 0.9)}
            for which, buckets in counts.items()
            if buckets
        }
    return Speed(**found, approximate=source.rolled is not None)


@dataclass
class Sla:
    met: int
    decided: int
    met_previous: int
    decided_previous: int
    breached_now: int
    breaching_soon: int

    @property
    def compliance(self) -> float | None:
        return share(self.met, self.decided)

    @property
    def compliance_previous(self) -> float | None:
        return share(self.met_previous, self.decided_previous)


def sla(period: Period, filters: Filters, *, now: datetime, source: Source | None = None) -> Sla:
    """Targets met of those due and decided in the period, and the open tickets past or near
    their targets now (two queries, and one over the rollups)."""
    source = source or Source(period)
    if filters.provider or filters.assignee_id:
        source = source.all_live()
    counts: dict[str, Any] = {}
    rolled_counts: dict[str, Any] = {}
    for which, stretch in (("", period), ("_previous", period.previous())):
        for target in ("first_response", "resolution"):
            due = source.live(f"{target}_due_at", stretch)
            decided = Q(**{f"{target}_breached__isnull": False})
            met = Q(**{f"{target}_breached": False})
            counts[f"{target}_decided{which}"] = Count("pk", filter=due & decided)
            counts[f"{target}_met{which}"] = Count("pk", filter=due & met)
            for kind in ("decided", "met"):
                rolled_counts[f"rolled_{target}_{kind}{which}"] = Sum(
                    f"{target}_{kind}", filter=source.rolled_in(stretch), default=0
                )
    due_in_either = source.live("first_response_due_at") | source.live("resolution_due_at")
    decided = Ticket.objects.filter(_tickets_q(filters), due_in_either).aggregate(**counts)
    if source.rolled is not None:
        rolled = source.rows(DailyTickets).filter(_rolled_tickets_q(filters))
        for name, value in rolled.aggregate(**rolled_counts).items():
            decided[name.removeprefix("rolled_")] += value
    window = timedelta(minutes=settings.SLA_WARNING_MINUTES)
    near = (
        tickets_breaching_sla(within=window, now=now)
        .filter(_tickets_q(filters))
        .order_by()
        .aggregate(
            breached=Count("pk", filter=Q(due_at__lte=now)),
            soon=Count("pk", filter=Q(due_at__gt=now)),
        )
    )

    def both(kind: str) -> int:
        return decided[f"first_response_{kind}"] + decided[f"resolution_{kind}"]

    return Sla(
        met=both("met"),
        decided=both("decided"),
        met_previous=both("met_previous"),
        decided_previous=both("decided_previous"),
        breached_now=near["breached"],
        breaching_soon=near["soon"],
    )


# Payments ----------------------------------------------------------------------------------


@dataclass
class ProviderFailures:
    provider: str
    payments: int
    failed: int
    payments_previous: int
    failed_previous: int

    @property
    def rate(self) -> float | None:
        return share(self.failed, self.payments)

    @property
    def rate_previous(self) -> float | None:
        return share(self.failed_previous, self.payments_previous)


@dataclass
class DeclineFailures:
    code: str
    failed: int
    rate: float | None


@dataclass
class DisputeMoney:
    currency: str
    open: int
    at_stake_minor: int
    won: int
    won_minor: int
    lost: int
    lost_minor: int


@dataclass
class FailedRefunds:
    currency: str
    count: int
    amount_minor: int
    count_previous: int


@dataclass
class Payments:
    by_provider: list[ProviderFailures]
    by_decline_code: list[DeclineFailures]
    disputes: list[DisputeMoney]
    open_disputes: list[Dispute]
    refunds_failed: list[FailedRefunds]

    @property
    def payments(self) -> int:
        return sum(row.payments for row in self.by_provider)

    @property
    def failed(self) -> int:
        return sum(row.failed for row in self.by_provider)

    @property
    def failure_rate(self) -> float | None:
        return share(self.failed, self.payments)

    @property
    def failure_rate_previous(self) -> float | None:
        return share(
            sum(row.failed_previous for row in self.by_provider),
            sum(row.payments_previous for row in self.by_provider),
        )


def payments(period: Period, filters: Filters, source: Source | None = None) -> Payments:
    """Failure rates, disputes and failed refunds (five queries, and two over the rollups)."""
    source = source or Source(period)
    if filters.narrows_tickets:
        source = source.all_live()  # the rollups know payments by provider only
    failed = Q(failed_at__isnull=False)
    current, previous = within("created_at", period), within("created_at", period.previous())
    live_providers = (
        Payment.objects.filter(_payments_q(filters), source.live("created_at"))
        .values("provider")
        .annotate(
            payments=Count("pk", filter=current),
            failed=Count("pk", filter=current & failed),
            payments_previous=Count("pk", filter=previous),
            failed_previous=Count("pk", filter=previous & failed),
        )
        .order_by()
    )
    this, before = source.rolled_in(period), source.rolled_in(period.previous())
    rolled_payments = source.rows(DailyPayments).filter(_rolled_payments_q(filters))
    rolled_providers = (
        rolled_payments.values("provider")
        .annotate(
            payments=Sum("created", filter=this, default=0),
            failed=Sum("created_failed", filter=this, default=0),
            payments_previous=Sum("created", filter=before, default=0),
            failed_previous=Sum("created_failed", filter=before, default=0),
        )
        .order_by()
    )
    by_provider = [
        ProviderFailures(provider=provider, **counts)
        for provider, counts in sorted(_summed([*rolled_providers, *live_providers], "provider"))
    ]
    all_payments = sum(row.payments for row in by_provider)
    live_codes = (
        Payment.objects.filter(_payments_q(filters), source.live("created_at", period), failed)
        .values("failure_code")
        .annotate(failed=Count("pk"))
        .order_by()
    )
    rolled_codes = (
        rolled_payments.filter(this, created_failed__gt=0)
        .values("failure_code")
        .annotate(failed=Sum("created_failed"))
        .order_by()
    )
    codes = _summed([*rolled_codes, *live_codes], "failure_code")
    by_decline_code = [
        DeclineFailures(
            code=code, failed=counts["failed"], rate=share(counts["failed"], all_payments)
        )
        for code, counts in sorted(codes, key=lambda item: (-item[1]["failed"], item[0]))
    ]
    is_open = Q(outcome=DisputeOutcome.OPEN)
    decided_now = within("last_event_at", period)
    won = decided_now & Q(outcome=DisputeOutcome.WON)
    lost = decided_now & Q(outcome=DisputeOutcome.LOST)
    disputes = Dispute.objects.filter(_payments_q(filters, prefix="payment__"))
    money = (
        disputes.filter(is_open | decided_now)
        .values("currency")
        .annotate(
            open=Count("pk", filter=is_open),
            at_stake_minor=Sum("amount_minor", filter=is_open, default=0),
            won=Count("pk", filter=won),
            won_minor=Sum("amount_minor", filter=won, default=0),
            lost=Count("pk", filter=lost),
            lost_minor=Sum("amount_minor", filter=lost, default=0),
        )
        .order_by("currency")
    )
    open_disputes = list(
        disputes.filter(is_open)
        .select_related("payment")
        .order_by(F("evidence_due_at").asc(nulls_last=True), "pk")[:OPEN_DISPUTES_LISTED]
    )
    live_refunds = (
        Refund.objects.filter(
            _payments_q(filters, prefix="payment__"),
            source.live("created_at"),
            status=RefundStatus.FAILED,
        )
        .values("currency")
        .annotate(
            count=Count("pk", filter=current),
            amount_minor=Sum("amount_minor", filter=current, default=0),
            count_previous=Count("pk", filter=previous),
        )
        .order_by()
    )
    rolled_refunds = (
        source.rows(DailyRefunds)
        .filter(_rolled_payments_q(filters))
        .values("currency")
        .annotate(
            count=Sum("failed", filter=this, default=0),
            amount_minor=Sum("failed_minor", filter=this, default=0),
            count_previous=Sum("failed", filter=before, default=0),
        )
        .order_by()
    )
    refunds = [
        FailedRefunds(currency=currency, **counts)
        for currency, counts in sorted(_summed([*rolled_refunds, *live_refunds], "currency"))
    ]
    return Payments(
        by_provider=by_provider,
        by_decline_code=by_decline_code,
        disputes=[DisputeMoney(**row) for row in money],
        open_disputes=open_disputes,
        refunds_failed=refunds,
    )


# Recovered revenue -------------------------------------------------------------------------


def support_contact_between_failure_and_success() -> Q:
    """For a payment (the outer query): its customer talked to support after it failed and
    before it succeeded (the module docstring has the whole definition)."""
    window = {"created_at__gte": OuterRef("failed_at"), "created_at__lt": OuterRef("recovered_at")}
    messages = TimelineEntry.objects.filter(kind__in=CONTACT_ENTRY_KINDS, **window)
    # Cheapest and likeliest first: PostgreSQL stops at the first one that holds, and the
    # customer's other tickets (several timelines each) are looked at last.
    return Q(
        Exists(messages.filter(ticket__payments=OuterRef("pk")))
        | Exists(Conversation.objects.filter(customer_id=OuterRef("customer_id"), **window))
        | Exists(messages.filter(ticket__customer_id=OuterRef("customer_id")))
    )


def recovered_in(stretch: Period) -> Q:
    """Payments recovered with support's help in `stretch`."""
    return (
        within("recovered_at", stretch)
        & Q(failed_at__lt=F("recovered_at"))
        & support_contact_between_failure_and_success()
    )


@dataclass
class RecoveredMoney:
    currency: str
    count: int
    amount_minor: int
    count_previous: int
    amount_minor_previous: int


@dataclass
class Recovered:
    by_currency: list[RecoveredMoney]
    failed: int
    failed_previous: int
    latest: list[Payment] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(row.count for row in self.by_currency)

    @property
    def count_previous(self) -> int:
        return sum(row.count_previous for row in self.by_currency)

    @property
    def share_of_failed(self) -> float | None:
        return share(self.count, self.failed)

    @property
    def share_of_failed_previous(self) -> float | None:
        return share(self.count_previous, self.failed_previous)


def recovered(period: Period, filters: Filters, source: Source | None = None) -> Recovered:
    """Recovered revenue per currency, its share of failed payments, and the latest payments
    recovered (three queries, and two over the rollups)."""
    source = source or Source(period)
    if filters.narrows_tickets:
        source = source.all_live()
    now, before = period, period.previous()
    # The support-contact test is the costly part (three correlated subqueries per payment): it
    # stands once, in the WHERE clause, and the aggregates below only compare dates.
    live = (
        Payment.objects.filter(
            _payments_q(filters), source.live("recovered_at"), recovered_in(source.span)
        )
        .values("currency")
        .annotate(
            count=Count("pk", filter=within("recovered_at", now)),
            amount_minor=Sum(
                "recovered_amount_minor", filter=within("recovered_at", now), default=0
            ),
            count_previous=Count("pk", filter=within("recovered_at", before)),
            amount_minor_previous=Sum(
                "recovered_amount_minor", filter=within("recovered_at", before), default=0
            ),
            # Recovered in a period but failed before it: dealt with in it too.
            failed_earlier=Count(
                "pk", filter=within("recovered_at", now) & Q(failed_at__lt=now.start)
            ),
            failed_earlier_previous=Count(
                "pk", filter=within("recovered_at", before) & Q(failed_at__lt=before.start)
            ),
        )
        .order_by()
    )
    this, earlier = source.rolled_in(now), source.rolled_in(before)
    rolled = (
        source.rows(DailyRecoveries)
        .filter(_rolled_payments_q(filters))
        .values("currency")
        .annotate(
            count=Sum("recovered", filter=this, default=0),
            amount_minor=Sum("recovered_minor", filter=this, default=0),
            count_previous=Sum("recovered", filter=earlier, default=0),
            amount_minor_previous=Sum("recovered_minor", filter=earlier, default=0),
            failed_earlier=Sum(
                "recovered", filter=this & Q(failed_day__lt=now.first_day), default=0
            ),
            failed_earlier_previous=Sum(
                "recovered", filter=earlier & Q(failed_day__lt=before.first_day), default=0
            ),
        )
        .order_by()
    )
    rows = sorted(_summed([*rolled, *live], "currency"))
    failed = Payment.objects.filter(_payments_q(filters), source.live("failed_at")).aggregate(
        current=Count("pk", filter=within("failed_at", now)),
        previous=Count("pk", filter=within("failed_at", before)),
    )
    rolled_failed = (
        source.rows(DailyPayments)
        .filter(_rolled_payments_q(filters))
        .aggregate(
            current=Sum("failed", filter=this, default=0),
            previous=Sum("failed", filter=earlier, default=0),
        )
    )
    return Recovered(
        by_currency=[
            RecoveredMoney(
                currency=currency, **{k: v for k, v in counts.items() if not k.startswith("failed")}
            )
            for currency, counts in rows
            if counts["count"] or counts["count_previous"]
        ],
        failed=failed["current"]
        + rolled_failed["current"]
        + sum(counts["failed_earlier"] for _, counts in rows),
        failed_previous=failed["previous"]
        + rolled_failed["previous"]
        + sum(counts["failed_earlier_previous"] for _, counts in rows),
        latest=list(
            Payment.objects.filter(_payments_q(filters), recovered_in(period)).order_by(
                "-recovered_at", "-pk"
            )[:LATEST_RECOVERED]
        ),
    )


# Satisfaction ------------------------------------------------------------------------------


@dataclass
class Ratings:
    """Ratings given in a period, and the surveys offered in it."""

    count: int = 0
    happy: int = 0
    total: int = 0
    surveys: int = 0

    @property
    def csat(self) -> float | None:
        return share(self.happy, self.count)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def response_rate(self) -> float | None:
        return share(self.count, self.surveys)

    def __add__(self, other: "Ratings") -> "Ratings":
        return Ratings(
            count=self.count + other.count,
            happy=self.happy + other.happy,
            total=self.total + other.total,
            surveys=self.surveys + other.surveys,
        )


@dataclass
class Comment:
    ticket_id: int
    rating: int
    text: str
    at: datetime
    source: str  # "ticket" (the survey) or "chat"


@dataclass
class Satisfaction:
    tickets: Ratings
    chats: Ratings
    tickets_previous: Ratings
    chats_previous: Ratings
    comments: list[Comment] = field(default_factory=list)

    @property
    def combined(self) -> Ratings:
        return self.tickets + self.chats

    @property
    def combined_previous(self) -> Ratings:
        return self.tickets_previous + self.chats_previous


def _rating_counts(
    moment: str, stretch: Period, suffix: str, rating: str = "rating", source: Source | None = None
) -> dict:
    given = (source.live(moment, stretch) if source else within(moment, stretch)) & Q(
        **{f"{rating}__isnull": False}
    )
    return {
        f"count{suffix}": Count("pk", filter=given),
        f"happy{suffix}": Count("pk", filter=given & Q(**{f"{rating}__in": HAPPY_RATINGS})),
        f"total{suffix}": Sum(rating, filter=given, default=0),
    }


def _ratings(row: dict, suffix: str, surveys: int) -> Ratings:
    return Ratings(
        count=row[f"count{suffix}"],
        happy=row[f"happy{suffix}"],
        total=row[f"total{suffix}"],
        surveys=surveys,
    )


def _rolled_ratings(rows: dict[str, int], prefix: str, which: str, surveys: str) -> Ratings:
    return Ratings(
        count=rows[f"{prefix}ratings{which}"],
        happy=rows[f"{prefix}happy_ratings{which}"],
        total=rows[f"{prefix}rating_total{which}"],
        surveys=rows[f"{surveys}{which}"],
    )


def satisfaction(period: Period, filters: Filters, source: Source | None = None) -> Satisfaction:
    """CSAT, mean and response rate of ticket surveys and chat ratings (four queries, and one
    over the rollups)."""
    source = source or Source(period)
    if filters.provider or filters.assignee_id:
        source = source.all_live()
    before = period.previous()
    on_tickets = _tickets_q(filters, prefix="ticket__")
    surveys = Notification.objects.filter(
        on_tickets,
        source.live("sent_at"),
        kind=NotificationKind.TICKET_SOLVED,
        status=NotificationStatus.SENT,
    ).aggregate(
        current=Count("pk", filter=within("sent_at", period)),
        previous=Count("pk", filter=within("sent_at", before)),
    )
    ticket_ratings = SatisfactionRating.objects.filter(
        on_tickets, source.live("created_at")
    ).aggregate(
        **_rating_counts("created_at", period, ""), **_rating_counts("created_at", before, "_p")
    )
    chats = Conversation.objects.filter(_conversations_q(filters)).filter(
        source.live("rated_at") | source.live("closed_at")
    )
    chat_ratings = chats.aggregate(
        **_rating_counts("rated_at", period, "", source=source),
        **_rating_counts("rated_at", before, "_p", source=source),
        closed=Count("pk", filter=source.live("closed_at", period)),
        closed_p=Count("pk", filter=source.live("closed_at", before)),
    )
    rolled_sums = {}
    for which, stretch in (("_c", period), ("_p", before)):
        for name in (
            "surveys", "ratings", "happy_ratings", "rating_total",
            "chats_closed", "chat_ratings", "chat_happy_ratings", "chat_rating_total",
        ):  # fmt: skip
            rolled_sums[name + which] = Sum(name, filter=source.rolled_in(stretch), default=0)
    rolled = source.rows(DailyTickets).filter(_rolled_tickets_q(filters)).aggregate(**rolled_sums)
    survey_comments = (
        SatisfactionRating.objects.filter(on_tickets, within("created_at", period))
        .exclude(comment="")
        .values(
            "ticket_id", "rating", text=F("comment"), at=F("created_at"), source=Value("ticket")
        )
    )
    chat_comments = (
        Conversation.objects.filter(_conversations_q(filters), within("rated_at", period))
        .exclude(rating_comment="")
        .values(
            "ticket_id", "rating", text=F("rating_comment"), at=F("rated_at"), source=Value("chat")
        )
    )
    # Each newest first on its own index, then merged: a UNION sorted as a whole would read
    # every comment of the period.
    latest = sorted(
        [
            *survey_comments.order_by("-created_at")[:LATEST_COMMENTS],
            *chat_comments.order_by("-rated_at")[:LATEST_COMMENTS],
        ],
        key=lambda row: row["at"],
        reverse=True,
    )
    return Satisfaction(
        tickets=_ratings(ticket_ratings, "", surveys["current"])
        + _rolled_ratings(rolled, "", "_c", "surveys"),
        chats=_ratings(chat_ratings, "", chat_ratings["closed"])
        + _rolled_ratings(rolled, "chat_", "_c", "chats_closed"),
        tickets_previous=_ratings(ticket_ratings, "_p", surveys["previous"])
        + _rolled_ratings(rolled, "", "_p", "surveys"),
        chats_previous=_ratings(chat_ratings, "_p", chat_ratings["closed_p"])
        + _rolled_ratings(rolled, "chat_", "_p", "chats_closed"),
        comments=[Comment(**row) for row in latest[:LATEST_COMMENTS]],
    )


# Agents ------------------------------------------------------------------------------------


@dataclass
class AgentFigures:
    agent: Any
    solved: int = 0
    median_first_response: timedelta | None = None
    ratings: Ratings = field(default_factory=Ratings)
    chats_handled: int = 0


def agents(period: Period, filters: Filters, source: Source | None = None) -> list[AgentFigures]:
    """Per assignee: tickets solved, median first response, CSAT, chats accepted (five
    queries, and two over the rollups), busiest first."""
    source = source or Source(period)
    if filters.narrows_tickets or filters.provider:
        source = source.all_live()  # the rollups keep each agent's own figures, unfiltered
    tickets = Ticket.objects.filter(_tickets_q(filters), assignee__isnull=False)
    figures: dict[int, AgentFigures] = defaultdict(lambda: AgentFigures(agent=None))
    this = source.rolled_in(period)
    rolled = (
        source.rows(DailyAgent)
        .filter(this)
        .values("agent_id")
        .annotate(
            solved=Sum("solved"),
            count=Sum("ratings"),
            happy=Sum("happy_ratings"),
            total=Sum("rating_total"),
            handled=Sum("chats_handled"),
        )
        .order_by()
    )
    for row in rolled:
        agent = figures[row["agent_id"]]
        agent.solved += row["solved"]
        agent.ratings += _ratings(row, "", 0)
        agent.chats_handled += row["handled"]
    solved = (
        tickets.filter(source.live("solved_at", period))
        .values("assignee_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in solved:
        figures[row["assignee_id"]].solved += row["count"]
    answered = tickets.filter(source.live("first_response_at", period))
    if source.rolled is None:
        medians = percentiles(
            answered,
            of=_duration("first_response_at", "created_at"),
            fractions=(0.5,),
            group=F("assignee_id"),
        )
    else:
        buckets: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for rows in source.rows_apart(
            DailyDurations, current_only=True, measure=Measure.FIRST_RESPONSE, agent__isnull=False
        ):
            rolled_durations = rows.values("agent_id", "bucket").annotate(count=Sum("tickets"))
            for row in rolled_durations.order_by():
                buckets[row["agent_id"]][row["bucket"]] += row["count"]
        for agent_id, at, created_at in answered.values_list(
            "assignee_id", "first_response_at", "created_at"
        ):
            buckets[agent_id][histograms.bucket_of(at - created_at)] += 1
        medians = {
            agent_id: {0.5: histograms.percentile(counts, 0.5)}
            for agent_id, counts in buckets.items()
        }
    for agent_id, values in medians.items():
        figures[agent_id].median_first_response = values[0.5]
    survey_rows = (
        SatisfactionRating.objects.filter(
            _tickets_q(filters, prefix="ticket__"), source.live("created_at", period)
        )
        .filter(ticket__assignee__isnull=False)
        .values("ticket__assignee_id")
        .annotate(**_rating_counts("created_at", period, ""))
        .order_by()
    )
    for row in survey_rows:
        figures[row["ticket__assignee_id"]].ratings += _ratings(row, "", 0)
    chat_rows = (
        Conversation.objects.filter(_conversations_q(filters), assignee__isnull=False)
        .filter(source.live("accepted_at", period) | source.live("rated_at", period))
        .values("assignee_id")
        .annotate(
            **_rating_counts("rated_at", period, "", source=source),
            handled=Count("pk", filter=source.live("accepted_at", period)),
        )
        .order_by()
    )
    for row in chat_rows:
        figures[row["assignee_id"]].ratings += _ratings(row, "", 0)
        figures[row["assignee_id"]].chats_handled += row["handled"]
    people = get_user_model().objects.in_bulk(list(figures))
    rows = []
    for agent_id, row in figures.items():
        row.agent = people.get(agent_id)
        if row.agent is not None:
            rows.append(row)
    return sorted(rows, key=lambda row: (-row.solved, row.agent.get_username()))


# Everything --------------------------------------------------------------------------------


@dataclass
class Dashboard:
    period: Period
    filters: Filters
    volume: Volume
    speed: Speed
    sla: Sla
    payments: Payments
    recovered: Recovered
    satisfaction: Satisfaction
    agents: list[AgentFigures]


def dashboard(period: Period, filters: Filters, *, now: datetime) -> Dashboard:
    """Every figure of the page (a constant number of queries: about forty), from one
    transaction: finished days from the daily rollups where they are built, the rest live."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # These queries are estimated costly enough for PostgreSQL to compile them (JIT),
            # and the compiling took longer than the running: 2.5 s → 1.2 s of SQL for 30 days
            # over a million tickets (docs/benchmarks.md, "Dashboard").
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        source = Source(period, rolled_days(period, today=timezone.localdate(now)))
        return Dashboard(
            period=period,
            filters=filters,
            volume=volume(period, filters, source),
            speed=speed(period, filters, source),
            sla=sla(period, filters, now=now, source=source),
            payments=payments(period, filters, source),
            recovered=recovered(period, filters, source),
            satisfaction=satisfaction(period, filters, source),
            agents=agents(period, filters, source),
        )

"""Daily rollups: the figures of finished days summed from them equal the figures counted live,
today stays live, and the nightly task and the command keep them."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboards import metrics
from dashboards.metrics import Filters, rolled_days
from dashboards.models import DailyTickets, RolledUpDay
from dashboards.periods import Period
from dashboards.rollups import NIGHTLY_DAYS, rollup_day, rollup_days
from dashboards.tasks import rollup_dashboard
from payments.models import Refund, RefundStatus
from tests.dashboards.conftest import (
    NOW,
    WEEK,
    at,
    chat,
    entry,
    payment,
    rating,
    stamp,
    survey,
    ticket,
)  # fmt: skip
from tests.factories import AgentFactory, CustomerFactory, TeamFactory
from tickets.models import Channel, EntryKind, Reason, Ticket

pytestmark = pytest.mark.django_db

TODAY = NOW.date()
SPAN = Period(WEEK.previous().first_day, WEEK.last_day)


def roll_up_the_span() -> None:
    rollup_days(SPAN.first_day, TODAY - timedelta(days=1))


def comparable(figures: metrics.Dashboard) -> dict:
    """The figures, percentiles left out (over rolled-up days they are close, not equal)."""
    return {
        "volume": figures.volume,
        "sla": figures.sla,
        "payments": (
            figures.payments.by_provider,
            figures.payments.by_decline_code,
            figures.payments.disputes,
            figures.payments.refunds_failed,
            figures.payments.open_disputes,
        ),
        "recovered": figures.recovered,
        "satisfaction": figures.satisfaction,
        "agents": [
            (row.agent, row.solved, row.ratings, row.chats_handled) for row in figures.agents
        ],
    }


def percentiles_of(figures: metrics.Dashboard) -> list[timedelta | None]:
    speed = figures.speed
    found = [
        speed.get(measure, which, fraction)
        for measure in ("first_response", "resolution")
        for which in ("current", "previous")
        for fraction in (0.5, 0.9)
    ]
    return found + [row.median_first_response for row in figures.agents]


def assert_close(rolled: list[timedelta | None], live: list[timedelta | None]) -> None:
    assert [value is None for value in rolled] == [value is None for value in live]
    for approximate, exact in zip(rolled, live, strict=True):
        if exact is not None:
            error = abs((approximate - exact).total_seconds())
            assert error <= 0.05 * exact.total_seconds() + 1, (approximate, exact)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(reason=Reason.PAYMENT_FAILED),
        Filters(channel=Channel.WEBHOOK),
        Filters(provider="stripe"),
        Filters(provider="paypal"),
    ],
    ids=["everything", "reason", "channel", "stripe", "paypal"],
)
def test_rolled_up_days_give_the_figures_counted_live(week, filters):
    live = metrics.dashboard(WEEK, filters, now=NOW)

    roll_up_the_span()
    rolled = metrics.dashboard(WEEK, filters, now=NOW)

    assert rolled_days(WEEK, today=TODAY) == Period(SPAN.first_day, TODAY - timedelta(days=1))
    assert comparable(rolled) == comparable(live)
    assert_close(percentiles_of(rolled), percentiles_of(live))


def test_the_team_filter_reads_the_teams_rollups(week):
    wallets = Filters(team_id=week.wallets.pk)
    live = metrics.dashboard(WEEK, wallets, now=NOW)

    roll_up_the_span()

    assert comparable(metrics.dashboard(WEEK, wallets, now=NOW)) == comparable(live)


def test_finished_days_are_read_from_the_rollups_until_rolled_up_again(week):
    roll_up_the_span()
    # A ticket of the 10th moved to the 11th after that day was rolled up: the page keeps
    # the rolled-up count until the day is rolled up again.
    moved = Ticket.objects.get(created_at=at(10, 9))
    stamp(moved, created_at=at(11, 9))

    figures = metrics.dashboard(WEEK, Filters(), now=NOW)
    assert figures.volume.per_day("opened")[date(2026, 11, 10)] == 1

    rollup_day(date(2026, 11, 10))
    rollup_day(date(2026, 11, 11))
    figures = metrics.dashboard(WEEK, Filters(), now=NOW)
    assert figures.volume.per_day("opened")[date(2026, 11, 10)] == 0
    assert figures.volume.per_day("opened")[date(2026, 11, 11)] == 2


def test_today_is_counted_live(week):
    roll_up_the_span()
    ticket(
        created=at(16, 9), team=week.cards, reason=Reason.QUESTION, channel=Channel.CHAT,
        first_response_at=at(16, 9, 5),
    )  # fmt: skip

    figures = metrics.dashboard(WEEK, Filters(), now=NOW)

    assert figures.volume.per_day("opened")[TODAY] == 1
    assert figures.volume.opened == 6


def test_a_day_not_rolled_up_is_counted_live_with_every_day_before_it(week):
    roll_up_the_span()
    RolledUpDay.objects.filter(day=date(2026, 11, 12)).delete()
    DailyTickets.objects.filter(day__lte=date(2026, 11, 12)).delete()  # not read any more

    assert rolled_days(WEEK, today=TODAY) == Period(date(2026, 11, 13), TODAY - timedelta(days=1))
    assert metrics.dashboard(WEEK, Filters(), now=NOW).volume.opened == 5


def test_the_last_nights_rollups_serve_before_older_days_are_rolled_up(week):
    """A new install: beat has rolled up the last few days only; older days are counted live."""
    live = metrics.dashboard(WEEK, Filters(), now=NOW)

    rollup_days(date(2026, 11, 12), TODAY - timedelta(days=1))
    rolled = metrics.dashboard(WEEK, Filters(), now=NOW)

    assert rolled_days(WEEK, today=TODAY) == Period(date(2026, 11, 12), date(2026, 11, 15))
    assert comparable(rolled) == comparable(live)
    assert_close(percentiles_of(rolled), percentiles_of(live))


def test_rollups_are_not_read_in_another_time_zone(week, settings):
    roll_up_the_span()

    with timezone.override("Asia/Tehran"):
        assert rolled_days(WEEK, today=TODAY) is None
    settings.TIME_ZONE = "Europe/Athens"  # the rollups were counted in UTC days
    with timezone.override("Europe/Athens"):
        assert rolled_days(WEEK, today=TODAY) is None


def test_rolling_up_a_day_again_replaces_its_rows(week):
    rollup_day(date(2026, 11, 10))
    first = list(DailyTickets.objects.filter(day=date(2026, 11, 10)).values())

    rollup_day(date(2026, 11, 10))

    again = list(DailyTickets.objects.filter(day=date(2026, 11, 10)).values())
    assert [{**row, "id": None} for row in again] == [{**row, "id": None} for row in first]
    assert sum(row["opened"] for row in again) == 1


def test_today_cannot_be_rolled_up(db):
    with pytest.raises(ValueError, match="not over yet"):
        rollup_day(timezone.localdate())


def test_the_nightly_task_rolls_up_the_last_days(db):
    yesterday = timezone.localdate() - timedelta(days=1)

    assert rollup_dashboard.apply().get() == NIGHTLY_DAYS

    days = set(RolledUpDay.objects.values_list("day", flat=True))
    assert days == {yesterday - timedelta(days=n) for n in range(NIGHTLY_DAYS)}


def test_the_command_rolls_up_every_day_since_the_first_ticket(week, capsys):
    call_command("rollup_dashboard", "--all")

    first = timezone.localdate(Ticket.objects.order_by("created_at").first().created_at)
    yesterday = timezone.localdate() - timedelta(days=1)
    assert RolledUpDay.objects.count() == (yesterday - first).days + 1
    assert f"{first} to {yesterday}" in capsys.readouterr().out


def test_the_command_refuses_a_day_not_over(db):
    with pytest.raises(Exception, match="not over yet"):
        call_command("rollup_dashboard", "--since", str(timezone.localdate()))


# Months ------------------------------------------------------------------------------------

# Sixty days with the whole of October in them, compared with sixty days holding August.
SIXTY_DAYS = Period(date(2026, 9, 18), date(2026, 11, 16))


@pytest.fixture
def months(db) -> None:
    """Four months of varied work, a few tickets a day, from a fixed seed."""
    generator = random.Random(6)
    teams = [TeamFactory(name="Cards"), TeamFactory(name="Wallets")]
    agents = [AgentFactory(team=team) for team in teams for _ in range(2)]
    day = datetime(2026, 7, 15, tzinfo=UTC)
    number = 0
    while day < NOW:
        for _ in range(generator.randint(0, 3)):
            number += 1
            created = day + timedelta(hours=generator.uniform(0, 23))
            answered = created + timedelta(minutes=generator.expovariate(1 / 90))
            solved = answered + timedelta(hours=generator.expovariate(1 / 20))
            customer = CustomerFactory()
            made = ticket(
                created=created,
                team=generator.choice(teams),
                reason=generator.choice(list(Reason)),
                channel=generator.choice(list(Channel)),
                assignee=generator.choice([None, *agents]),
                customer=customer,
                first_response_at=answered if answered < NOW else None,
                solved_at=solved if solved < NOW else None,
                first_response_due_at=created + timedelta(hours=1),
                first_response_breached=answered > created + timedelta(hours=1),
                resolution_due_at=created + timedelta(hours=24),
                resolution_breached=solved > created + timedelta(hours=24),
            )
            if made.solved_at:
                survey(made, made.solved_at + timedelta(minutes=1))
                if generator.random() < 0.5:
                    rating(made, generator.randint(1, 5), "", made.solved_at + timedelta(hours=2))
            if made.channel == Channel.CHAT and made.assignee and answered < NOW:
                chat(
                    ticket=made, customer=customer, created=created, assignee=made.assignee,
                    rating=generator.randint(1, 5), rated=created + timedelta(minutes=20),
                )  # fmt: skip
            failed_at = created - timedelta(minutes=5)
            recovered_at = failed_at + timedelta(hours=generator.uniform(1, 60))
            recovered = recovered_at < NOW and generator.random() < 0.7
            entry(made, EntryKind.CUSTOMER_MESSAGE, failed_at + timedelta(minutes=30))
            paid = payment(
                created=failed_at - timedelta(minutes=1),
                provider=generator.choice(["stripe", "paypal"]),
                customer=customer,
                tickets=[made],
                failed_at=failed_at,
                failure_code=generator.choice(["card_declined", "insufficient_funds"]),
                currency=generator.choice(["USD", "EUR"]),
                recovered_at=recovered_at if recovered else None,
                recovered_amount_minor=1_000 * number if recovered else None,
            )
            if generator.random() < 0.2:
                refund = Refund.objects.create(
                    provider=paid.provider, provider_refund_id=f"re_{number}", payment=paid,
                    amount_minor=100 * number, status=RefundStatus.FAILED,
                )  # fmt: skip
                stamp(refund, created_at=created + timedelta(hours=1))
        day += timedelta(days=1)


@pytest.mark.parametrize("filters", [Filters(), Filters(provider="paypal")], ids=str)
def test_whole_months_read_from_month_rows_give_the_figures_counted_live(months, filters):
    live = metrics.dashboard(SIXTY_DAYS, filters, now=NOW)

    rollup_days(SIXTY_DAYS.previous().first_day, TODAY - timedelta(days=1))
    rolled = metrics.dashboard(SIXTY_DAYS, filters, now=NOW)

    assert DailyTickets.objects.filter(month=True, day=date(2026, 10, 1)).exists()
    assert live.volume.opened > 30  # a fixture with figures to compare
    assert live.recovered.count > 5
    assert comparable(rolled) == comparable(live)
    assert_close(percentiles_of(rolled), percentiles_of(live))


def test_a_month_row_sums_its_days_and_follows_a_day_rolled_up_again(months):
    rollup_days(date(2026, 10, 1), date(2026, 10, 31))
    october = DailyTickets.objects.filter(day__gte=date(2026, 10, 1), day__lte=date(2026, 10, 31))
    opened = sum(october.filter(month=False).values_list("opened", flat=True))
    assert sum(october.filter(month=True).values_list("opened", flat=True)) == opened

    Ticket.objects.filter(
        created_at__gte=datetime(2026, 10, 5, tzinfo=UTC),
        created_at__lt=datetime(2026, 10, 6, tzinfo=UTC),
    ).update(created_at=datetime(2026, 9, 30, 12, tzinfo=UTC))
    rollup_day(date(2026, 10, 5))

    month_opened = sum(october.filter(month=True).values_list("opened", flat=True))
    assert month_opened == sum(october.filter(month=False).values_list("opened", flat=True))
    assert month_opened < opened


@pytest.mark.parametrize(
    ("first", "last", "whole"),
    [
        (date(2026, 10, 1), date(2026, 10, 31), [date(2026, 10, 1)]),
        (date(2026, 10, 2), date(2026, 12, 1), [date(2026, 11, 1)]),
        (date(2026, 10, 1), date(2026, 10, 30), []),
        (date(2026, 1, 31), date(2026, 3, 31), [date(2026, 2, 1), date(2026, 3, 1)]),
    ],
)
def test_the_whole_months_of_a_stretch(first, last, whole):
    assert metrics.whole_months(first, last) == whole

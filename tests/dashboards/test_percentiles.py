"""Percentiles from the database agree with Python's statistics module, on either database."""

import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F

from dashboards.metrics import _duration
from dashboards.percentiles import percentiles
from tests.factories import TeamFactory, TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 1, tzinfo=UTC)


def tickets_answered_after(minutes_by_team: dict) -> None:
    for team, minutes in minutes_by_team.items():
        for count in minutes:
            made = TicketFactory(team=team)
            Ticket.objects.filter(pk=made.pk).update(
                created_at=START, first_response_at=START + timedelta(minutes=count)
            )


def reference(values: list[float]) -> dict[float, float]:
    if len(values) == 1:
        return {0.5: values[0], 0.9: values[0]}
    return {
        0.5: statistics.median(values),
        0.9: statistics.quantiles(values, n=10, method="inclusive")[8],
    }


def test_percentiles_per_group_agree_with_the_statistics_module():
    rng = random.Random(6)
    cards, wallets, single = TeamFactory(), TeamFactory(), TeamFactory()
    minutes = {
        cards: [rng.randint(1, 600) for _ in range(37)],
        wallets: [rng.randint(1, 600) for _ in range(8)],
        single: [42],
    }
    tickets_answered_after(minutes)

    found = percentiles(
        Ticket.objects.all(),
        of=_duration("first_response_at", "created_at"),
        fractions=(0.5, 0.9),
        group=F("team_id"),
    )

    assert set(found) == {cards.pk, wallets.pk, single.pk}
    for team, values in minutes.items():
        expected = reference(values)
        for fraction in (0.5, 0.9):
            assert found[team.pk][fraction].total_seconds() == pytest.approx(
                expected[fraction] * 60
            )


def test_rows_without_a_value_are_left_out():
    team = TeamFactory()
    tickets_answered_after({team: [10, 20]})
    TicketFactory(team=team)  # never answered

    found = percentiles(
        Ticket.objects.all(), of=_duration("first_response_at", "created_at"), fractions=(0.5,)
    )

    assert found == {None: {0.5: timedelta(minutes=15)}}


def test_no_rows_no_percentiles():
    found = percentiles(
        Ticket.objects.all(), of=_duration("first_response_at", "created_at"), fractions=(0.5,)
    )

    assert found == {}


def test_a_fraction_outside_0_and_1_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentiles(
            Ticket.objects.all(), of=_duration("first_response_at", "created_at"), fractions=(1.5,)
        )

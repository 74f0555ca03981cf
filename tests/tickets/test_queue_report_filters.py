"""The queue filters the dashboard's figures link to: channel and the day a ticket was solved."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.factories import TicketFactory
from tickets.models import Channel, Status, Ticket

pytestmark = pytest.mark.django_db

QUEUE = reverse("tickets:queue")


def shown(response) -> set[int]:
    return {ticket.pk for ticket in response.context["page"].object_list}


def test_the_queue_filters_by_channel(client, agent, team):
    chat = TicketFactory(team=team, channel=Channel.CHAT)
    TicketFactory(team=team, channel=Channel.EMAIL)
    client.force_login(agent)

    assert shown(client.get(QUEUE, {"channel": "chat"})) == {chat.pk}


def test_the_queue_filters_by_the_day_tickets_were_solved(client, agent, team):
    solved = {}
    for day in (9, 10, 11):
        ticket = TicketFactory(team=team, status=Status.SOLVED)
        Ticket.objects.filter(pk=ticket.pk).update(
            solved_at=datetime(2026, 11, day, 23, 59, tzinfo=UTC)
        )
        solved[day] = ticket.pk
    TicketFactory(team=team)  # never solved
    client.force_login(agent)

    # "Until" includes the day itself, as for the other date filters.
    response = client.get(QUEUE, {"solved_after": "2026-11-10", "solved_before": "2026-11-10"})

    assert shown(response) == {solved[10]}

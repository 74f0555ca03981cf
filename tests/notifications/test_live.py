"""The bell over the desk websocket: an agent's open tabs hear of their own notices, and of
nobody else's.

The sockets go through `helpdesk.asgi.application`, as in tests/tickets/test_live.py. The
database is transactional: a notice is delivered from the change's on-commit callback (Celery
runs in-process), so it is sent only once the change is really committed.
"""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from notifications.models import Channel, Kind, Notification
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.models import Ticket
from tickets.services import ticket_update

pytestmark = pytest.mark.django_db(transaction=True)

# Long enough for a message that is on its way to arrive, short enough to keep the suite quick.
QUIET_S = 0.3


async def notices(desk: WebsocketCommunicator) -> list[dict[str, Any]]:
    """The bell messages that reach `desk` until it goes quiet (ticket changes skipped)."""
    heard = []
    while not await desk.receive_nothing(QUIET_S):
        message = await desk.receive_json_from()
        if message["type"] == "notification":
            heard.append(message)
    return heard


@database_sync_to_async
def in_app_notice(user, ticket: Ticket) -> Notification:
    return Notification.objects.get(
        user=user, ticket=ticket, kind=Kind.TICKET_ASSIGNED, channel=Channel.IN_APP
    )


@database_sync_to_async
def assign(ticket: Ticket, *, by, to) -> None:
    ticket_update(ticket=ticket, actor=by, assignee=to)


@pytest.fixture
def ticket(team) -> Ticket:
    return TicketFactory(team=team)


@pytest.mark.asyncio
async def test_an_agent_hears_of_a_ticket_a_colleague_assigned_to_them(open_desk, sam, lee, ticket):
    desk = await open_desk(sam)

    await assign(ticket, by=lee, to=sam)

    notice = await in_app_notice(sam, ticket)
    assert await notices(desk) == [{"type": "notification", "unread": 1, "notification": notice.pk}]


@pytest.mark.asyncio
async def test_every_open_tab_of_the_agent_hears_it_and_the_count_grows(
    open_desk, sam, lee, ticket, team
):
    first, second = await open_desk(sam), await open_desk(sam)
    other = await database_sync_to_async(TicketFactory)(team=team)

    await assign(ticket, by=lee, to=sam)
    await assign(other, by=lee, to=sam)

    firsts, seconds = await in_app_notice(sam, ticket), await in_app_notice(sam, other)
    expected = [
        {"type": "notification", "unread": 1, "notification": firsts.pk},
        {"type": "notification", "unread": 2, "notification": seconds.pk},
    ]
    assert await notices(first) == expected
    assert await notices(second) == expected


@pytest.mark.asyncio
async def test_colleagues_and_other_teams_hear_nothing_of_it(open_desk, sam, lee, ticket):
    outsider = await database_sync_to_async(AgentFactory)(team=await database_sync_to_async(
        TeamFactory)(name="Wallets"))  # fmt: skip
    sams, lees, outsiders = await open_desk(sam), await open_desk(lee), await open_desk(outsider)

    await assign(ticket, by=lee, to=sam)

    assert len(await notices(sams)) == 1
    assert await notices(lees) == []  # they hear the ticket changed, not the bell
    assert await notices(outsiders) == []


@pytest.mark.asyncio
async def test_taking_a_ticket_yourself_rings_no_bell(open_desk, sam, ticket):
    desk = await open_desk(sam)

    await assign(ticket, by=sam, to=sam)

    assert await notices(desk) == []


@pytest.mark.asyncio
async def test_opening_a_notice_in_one_tab_clears_the_bell_in_the_others(
    open_desk, sam, lee, ticket
):
    desk = await open_desk(sam)
    await assign(ticket, by=lee, to=sam)
    notice = await in_app_notice(sam, ticket)
    assert len(await notices(desk)) == 1

    @database_sync_to_async
    def open_notice() -> int:
        client = Client()
        client.force_login(sam)
        return client.get(reverse("notifications:open", args=[notice.pk])).status_code

    assert await open_notice() == 302

    assert await notices(desk) == [{"type": "notification", "unread": 0, "notification": None}]


@pytest.mark.asyncio
async def test_mark_all_as_read_clears_the_bell_and_reading_nothing_says_nothing(
    open_desk, sam, lee, ticket
):
    desk = await open_desk(sam)
    await assign(ticket, by=lee, to=sam)
    assert len(await notices(desk)) == 1

    @database_sync_to_async
    def read_all() -> None:
        client = Client()
        client.force_login(sam)
        client.post(reverse("notifications:read_all"))

    await read_all()
    assert await notices(desk) == [{"type": "notification", "unread": 0, "notification": None}]
    await read_all()  # nothing left unread
    assert await notices(desk) == []


@pytest.mark.asyncio
async def test_a_tab_that_was_away_asks_for_the_count_and_gets_it(open_desk, sam, lee, ticket):
    await assign(ticket, by=lee, to=sam)  # while Sam's socket was down
    desk = await open_desk(sam)

    await desk.send_json_to({"type": "unread"})

    assert await desk.receive_json_from() == {
        "type": "notification",
        "unread": 1,
        "notification": None,
    }

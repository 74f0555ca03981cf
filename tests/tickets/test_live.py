"""Live updates over the desk websocket: who may connect, who hears of which ticket change (and
only once it is committed), and who sees whom on a ticket.

The sockets go through `helpdesk.asgi.application`, so the origin check and the session
authentication are the production ones. The database is transactional: the consumer reads it
from other threads, and a change is announced only when it is really committed.
"""

import asyncio
import json
import socket
import time
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction
from websockets.sync.client import connect as websocket_connect

from tests.conftest import (
    DESK,
    require_real_services,
    session_cookie,
    stripe_event,
    stripe_headers,
    wait_until,
)
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets import consumers, live
from tickets.consumers import (
    CLOSE_NOT_AGENT,
    CLOSE_NOT_SIGNED_IN,
    ERROR_ACTIVITY_STATE,
    ERROR_MALFORMED,
    ERROR_NO_TICKET,
    ERROR_NOT_WATCHING,
    ERROR_UNKNOWN_TYPE,
)
from tickets.live import ticket_group
from tickets.models import Reason, Status, Ticket, TimelineEntry
from tickets.services import default_team, ticket_create, ticket_note, ticket_update

pytestmark = pytest.mark.django_db(transaction=True)

# Long enough for a message that is on its way to arrive, short enough to keep the suite quick.
QUIET_S = 0.3


async def close_code(desk: WebsocketCommunicator) -> int | None:
    message = await desk.receive_output()
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def receive_until(desk: WebsocketCommunicator, **expected: Any) -> dict[str, Any]:
    """The next message with these items, skipping the others (presence arrives in steps)."""
    while True:
        message = await desk.receive_json_from(timeout=2)
        if expected.items() <= message.items():
            return message


async def watch(desk: WebsocketCommunicator, ticket: Ticket) -> None:
    await desk.send_json_to({"type": "watch", "ticket": ticket.pk})
    await receive_until(desk, type="watching", ticket=ticket.pk)


def viewer(user, state: str = "viewing") -> dict[str, Any]:
    return {"id": user.pk, "name": user.get_full_name(), "state": state}


def roster(*viewers: dict[str, Any]) -> list[dict[str, Any]]:
    """Viewers in the order the server lists them: by name."""
    return sorted(viewers, key=lambda v: (v["name"].lower(), v["id"]))


def changed(ticket: Ticket, change: str) -> dict[str, Any]:
    return {"type": "ticket.changed", "ticket": ticket.pk, "change": change}


@pytest.fixture
def bob(team):
    """A second agent on `team`."""
    return AgentFactory(username="bob", first_name="Bob", last_name="Baker", team=team)


@pytest.fixture
def ticket(team) -> Ticket:
    return TicketFactory(team=team)


# Who may connect -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_it_refuses_anonymous_visitors(open_desk):
    desk = await open_desk(None)

    assert await close_code(desk) == CLOSE_NOT_SIGNED_IN


@pytest.mark.asyncio
async def test_it_refuses_a_signed_in_user_who_is_not_an_agent(open_desk, customer_user):
    desk = await open_desk(customer_user)

    assert await close_code(desk) == CLOSE_NOT_AGENT


@pytest.mark.asyncio
async def test_it_refuses_an_agent_who_still_has_to_set_up_required_two_factor(open_desk, agent):
    from accounts.models import SecurityPolicy

    policy = await database_sync_to_async(SecurityPolicy.load)()
    policy.require_two_factor = True
    await database_sync_to_async(policy.save)()

    desk = await open_desk(agent)

    assert await close_code(desk) == CLOSE_NOT_AGENT


@pytest.mark.asyncio
async def test_it_refuses_a_page_from_another_origin(open_desk, agent):
    desk = await open_desk(agent, origin="https://evil.example")

    assert not desk.connected


@pytest.mark.asyncio
async def test_it_refuses_a_socket_without_an_origin(open_desk, agent):
    desk = await open_desk(agent, origin=None)

    assert not desk.connected


@pytest.mark.asyncio
async def test_it_lets_an_agent_in(open_desk, agent):
    desk = await open_desk(agent)

    assert desk.connected
    await desk.send_json_to({"type": "ping"})
    assert await desk.receive_json_from() == {"type": "pong"}


# Who hears of which change -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_agent_hears_of_a_ticket_opened_on_their_team(open_desk, agent, team):
    desk = await open_desk(agent)

    ticket = await database_sync_to_async(ticket_create)(
        subject="Where is my refund?", reason=Reason.QUESTION, team=team
    )

    assert await desk.receive_json_from() == changed(ticket, "ticket_created")
    assert await desk.receive_nothing(QUIET_S)


@pytest.mark.asyncio
async def test_an_agent_hears_of_changes_and_notes_on_their_teams_tickets(open_desk, agent, ticket):
    desk = await open_desk(agent)

    await database_sync_to_async(ticket_update)(ticket=ticket, actor=agent, status=Status.PENDING)
    assert await desk.receive_json_from() == changed(ticket, "status_change")

    await database_sync_to_async(ticket_note)(ticket=ticket, author=agent, body="Called the bank")
    assert await desk.receive_json_from() == changed(ticket, "internal_note")
    assert await desk.receive_nothing(QUIET_S)


@pytest.mark.asyncio
async def test_nothing_is_announced_before_the_change_commits(open_desk, agent, ticket):
    desk = await open_desk(agent)

    @database_sync_to_async
    def note_and_listen_before_commit() -> bool:
        with transaction.atomic():
            ticket_note(ticket=ticket, author=agent, body="Checking with the acquirer")
            # Listen from inside the transaction, on the test's event loop.
            return async_to_sync(desk.receive_nothing)(QUIET_S)

    assert await note_and_listen_before_commit()
    assert await desk.receive_json_from() == changed(ticket, "internal_note")


@pytest.mark.asyncio
async def test_a_change_that_is_rolled_back_is_never_announced(open_desk, agent, ticket):
    desk = await open_desk(agent)

    @database_sync_to_async
    def note_then_roll_back() -> None:
        with transaction.atomic():
            ticket_note(ticket=ticket, author=agent, body="Never mind")
            transaction.set_rollback(True)

    await note_then_roll_back()

    assert await desk.receive_nothing(QUIET_S)


@pytest.mark.asyncio
async def test_an_agent_of_another_team_hears_nothing(open_desk, outsider, ticket):
    desk = await open_desk(outsider)

    await database_sync_to_async(ticket_note)(ticket=ticket, author=outsider, body="Not mine")

    assert await desk.receive_nothing(QUIET_S)


@pytest.mark.asyncio
async def test_an_admin_hears_of_every_teams_tickets(open_desk, admin, ticket):
    wallets_ticket = await database_sync_to_async(TicketFactory)(
        team=await database_sync_to_async(TeamFactory)(name="Wallets")
    )
    desk = await open_desk(admin)

    await database_sync_to_async(ticket_note)(ticket=ticket, author=admin, body="Looked")
    await database_sync_to_async(ticket_note)(ticket=wallets_ticket, author=admin, body="Also")

    assert await desk.receive_json_from() == changed(ticket, "internal_note")
    assert await desk.receive_json_from() == changed(wallets_ticket, "internal_note")


@pytest.mark.asyncio
async def test_a_hand_off_reaches_the_queues_of_both_teams(open_desk, agent, outsider, ticket):
    ours, theirs = await open_desk(agent), await open_desk(outsider)
    wallets = await database_sync_to_async(outsider.teams.get)()

    await database_sync_to_async(ticket_update)(ticket=ticket, actor=agent, team=wallets)

    assert await ours.receive_json_from() == changed(ticket, "handed_off")
    assert await theirs.receive_json_from() == changed(ticket, "team_change")


@pytest.mark.asyncio
async def test_an_agent_watching_a_ticket_of_their_team_hears_each_change_once(
    open_desk, agent, ticket
):
    desk = await open_desk(agent)
    await watch(desk, ticket)
    await receive_until(desk, type="presence")

    await database_sync_to_async(ticket_note)(ticket=ticket, author=agent, body="Once")

    assert await desk.receive_json_from() == changed(ticket, "internal_note")
    assert await desk.receive_nothing(QUIET_S)


@pytest.mark.asyncio
async def test_a_watcher_who_loses_the_ticket_to_another_team_stops_watching(
    open_desk, agent, ticket
):
    desk = await open_desk(agent)
    await watch(desk, ticket)
    await receive_until(desk, type="presence")
    wallets = await database_sync_to_async(TeamFactory)(name="Wallets")

    moved = await database_sync_to_async(ticket_update)(ticket=ticket, actor=agent, team=wallets)

    await receive_until(desk, type="watching", ticket=None)
    await database_sync_to_async(ticket_note)(ticket=moved, author=agent, body="Gone")
    assert await desk.receive_nothing(QUIET_S)


# Watching and presence -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_watching_a_ticket_of_another_team_is_refused(open_desk, outsider, ticket):
    desk = await open_desk(outsider)

    await desk.send_json_to({"type": "watch", "ticket": ticket.pk})

    assert await desk.receive_json_from() == {"type": "error", "message": ERROR_NO_TICKET}
    await database_sync_to_async(ticket_note)(ticket=ticket, author=outsider, body="Psst")
    assert await desk.receive_nothing(QUIET_S)


@pytest.mark.asyncio
async def test_watching_a_ticket_that_does_not_exist_is_refused_the_same_way(open_desk, agent):
    desk = await open_desk(agent)

    await desk.send_json_to({"type": "watch", "ticket": 987654})

    assert await desk.receive_json_from() == {"type": "error", "message": ERROR_NO_TICKET}


@pytest.mark.asyncio
async def test_a_watcher_sees_themselves_alone_on_the_ticket(open_desk, agent, ticket):
    desk = await open_desk(agent)

    await watch(desk, ticket)

    assert await desk.receive_json_from() == {
        "type": "presence",
        "ticket": ticket.pk,
        "viewers": [viewer(agent)],
    }


@pytest.mark.asyncio
async def test_two_agents_on_a_ticket_see_each_other_reply_and_leave(open_desk, agent, bob, ticket):
    alice_desk = await open_desk(agent)
    await watch(alice_desk, ticket)
    await receive_until(alice_desk, type="presence", viewers=[viewer(agent)])
    bob_desk = await open_desk(bob)
    await watch(bob_desk, ticket)

    both = roster(viewer(agent), viewer(bob))
    await receive_until(alice_desk, type="presence", ticket=ticket.pk, viewers=both)
    await receive_until(bob_desk, type="presence", ticket=ticket.pk, viewers=both)

    await bob_desk.send_json_to({"type": "activity", "state": "replying"})
    replying = roster(viewer(agent), viewer(bob, "replying"))
    await receive_until(alice_desk, type="presence", viewers=replying)

    await bob_desk.disconnect()
    await receive_until(alice_desk, type="presence", viewers=[viewer(agent)])


@pytest.mark.asyncio
async def test_moving_to_another_ticket_leaves_the_first(open_desk, agent, bob, ticket, team):
    other = await database_sync_to_async(TicketFactory)(team=team)
    alice_desk, bob_desk = await open_desk(agent), await open_desk(bob)
    await watch(alice_desk, ticket)
    await watch(bob_desk, ticket)
    both = roster(viewer(agent), viewer(bob))
    await receive_until(alice_desk, type="presence", viewers=both)

    await watch(bob_desk, other)

    await receive_until(alice_desk, type="presence", ticket=ticket.pk, viewers=[viewer(agent)])
    await receive_until(bob_desk, type="presence", ticket=other.pk, viewers=[viewer(bob)])


@pytest.mark.asyncio
async def test_an_agent_with_the_ticket_open_twice_counts_once(open_desk, agent, ticket):
    first, second = await open_desk(agent), await open_desk(agent)
    await watch(first, ticket)
    await watch(second, ticket)
    await second.send_json_to({"type": "activity", "state": "replying"})

    await receive_until(first, type="presence", viewers=[viewer(agent, "replying")])


@pytest.mark.asyncio
async def test_a_viewer_whose_server_died_is_dropped_after_a_while(
    open_desk, agent, bob, ticket, monkeypatch
):
    monkeypatch.setattr(consumers, "PRESENCE_REFRESH_S", 0.05)
    monkeypatch.setattr(consumers, "PRESENCE_TTL_S", 0.3)
    desk = await open_desk(agent)
    await watch(desk, ticket)

    # The consumer of a server process that died: it announced itself once, and then nothing.
    await get_channel_layer().group_send(
        ticket_group(ticket.pk),
        {
            "type": "presence.announce",
            "ticket": ticket.pk,
            "channel": "specific.gone!1",
            "user": bob.pk,
            "name": bob.get_full_name(),
            "state": "replying",
            "want_replies": False,
        },
    )

    both = roster(viewer(agent), viewer(bob, "replying"))
    await receive_until(desk, type="presence", viewers=both)
    await receive_until(desk, type="presence", viewers=[viewer(agent)])


@pytest.mark.asyncio
async def test_malformed_messages_get_an_error_and_the_socket_stays_usable(
    open_desk, agent, ticket
):
    desk = await open_desk(agent)
    mistakes = [
        ("not json", ERROR_MALFORMED),
        ("[1, 2]", ERROR_MALFORMED),
        ('{"ticket": 1}', ERROR_MALFORMED),
        ('{"type": ["watch"]}', ERROR_MALFORMED),
        ('{"type": "dance"}', ERROR_UNKNOWN_TYPE),
        ('{"type": "watch", "ticket": "1"}', ERROR_NO_TICKET),
        ('{"type": "watch", "ticket": 99999999999999999999999}', ERROR_NO_TICKET),
        ('{"type": "activity", "state": "replying"}', ERROR_NOT_WATCHING),
    ]
    for text, error in mistakes:
        await desk.send_to(text_data=text)
        assert await desk.receive_json_from() == {"type": "error", "message": error}, text
    await desk.send_to(bytes_data=b"\x00\x01")
    assert await desk.receive_json_from() == {"type": "error", "message": ERROR_MALFORMED}

    await watch(desk, ticket)
    await receive_until(desk, type="presence")
    await desk.send_json_to({"type": "activity", "state": "sleeping"})
    assert await desk.receive_json_from() == {"type": "error", "message": ERROR_ACTIVITY_STATE}
    await desk.send_json_to({"type": "ping"})
    assert await desk.receive_json_from() == {"type": "pong"}


# A broken channel layer ----------------------------------------------------------------------


@pytest.mark.parametrize("redis", ["refuses connections", "never answers"])
def test_a_broken_channel_layer_does_not_fail_the_change(
    settings, agent, ticket, caplog, monkeypatch, redis
):
    """Redis down (nothing listens on port 1) or hung (a port that accepts connections and never
    answers): the change is saved without waiting for Redis, the failed notice is logged, and
    the process's notice sender gives it up after SEND_TIMEOUT_S, leaving nothing behind."""
    monkeypatch.setattr(live, "SEND_TIMEOUT_S", 0.5)
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        port = 1 if redis == "refuses connections" else hung.getsockname()[1]
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"]},
            }
        }

        started = time.monotonic()
        entry = ticket_note(ticket=ticket, author=agent, body="Saved all the same")
        took = time.monotonic() - started

        assert TimelineEntry.objects.filter(pk=entry.pk).exists()
        assert took < 0.4
        wait_until(lambda: "Could not send 'ticket.changed'" in caplog.text, timeout=2)
        assert live._notice_sender().flush(timeout=2)


@pytest.mark.services
@pytest.mark.asyncio
async def test_notices_from_synchronous_code_keep_their_order(settings):
    """Changes made one after another in one process (a task, a view) reach a listening page in
    that order, though nobody who sends them waits for Redis."""
    require_real_services()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL]},
        }
    }
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(ticket_group(1), channel)

    def change_the_ticket_many_times() -> None:
        for n in range(200):
            live.send_to_groups([ticket_group(1)], {"type": live.TICKET_CHANGED, "n": n})

    await asyncio.to_thread(change_the_ticket_many_times)
    heard = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(200)]

    assert heard == list(range(200))


# End to end ----------------------------------------------------------------------------------


def test_an_agent_online_hears_of_the_ticket_a_stripe_webhook_opens(asgi_live_server, agent):
    default_team().members.add(agent)
    event = stripe_event("payment_intent.payment_failed", event_id="evt_live_desk_0001")
    body = json.dumps(event).encode()
    signature = stripe_headers(body)["HTTP_STRIPE_SIGNATURE"]

    with websocket_connect(
        asgi_live_server.ws_url + DESK,
        origin=asgi_live_server.url,
        additional_headers={"Cookie": session_cookie(agent)},
        open_timeout=5,
    ) as desk:
        response = httpx.post(
            asgi_live_server.url + "/webhooks/stripe/",
            content=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        ticket = Ticket.objects.get()
        assert ticket.team == default_team()

        message = json.loads(desk.recv(timeout=5))

    assert message == changed(ticket, "ticket_created")

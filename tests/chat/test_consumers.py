"""The chat sockets, customer and agent, through the real ASGI application.

Transactional database: the consumers read and write it from other threads, and a message is
acknowledged only once it is committed.
"""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import consumers, live
from chat.models import ChatMessage, Conversation, ConversationStatus
from chat.presence import agent_status
from tests.chat.conftest import PAYDESK, close_code, receive_until, token_for
from tests.factories import AgentFactory, TeamFactory
from tickets.models import EntryKind, TimelineEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ANA = "ana@example.com"


async def say(socket, client_id: str, body: str, **extra):
    await socket.send_json_to({"type": "message", "client_id": client_id, "body": body, **extra})
    return await receive_until(socket, type="ack", client_id=client_id)


async def kinds_received(socket, *, seconds: float) -> list[str]:
    """The types of whatever the socket sent within `seconds` (without a receive timing out:
    the test communicator stops the consumer when one does)."""
    await asyncio.sleep(seconds)
    kinds = []
    while not await socket.receive_nothing(timeout=0.05):
        kinds.append((await socket.receive_json_from())["type"])
    return kinds


async def agent_has_the_chat_open(customer_socket, agent_socket, agent_user):
    """Ana said hello in a new chat, which the agent has open: (Ana, the agent, its id)."""
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "Hello")
    agent = await agent_socket(agent_user)
    await agent.send_json_to({"type": "open", "conversation": first["conversation"]})
    await receive_until(agent, type="conversation")
    return ana, agent, first["conversation"]


def stored(conversation_id: int) -> list[tuple[int, str, str]]:
    return list(
        ChatMessage.objects.filter(conversation_id=conversation_id)
        .order_by("seq")
        .values_list("seq", "sender", "body")
    )


# Identity ------------------------------------------------------------------------------------


async def test_a_customer_with_a_signed_token_is_verified(customer_socket):
    _socket, welcome = await customer_socket(token=token_for(ANA, name="Ana Lopez"))

    assert welcome["verified"] is True
    assert welcome["email"] == ANA
    assert welcome["name"] == "Ana Lopez"
    assert welcome["conversation"] is None


async def test_a_customer_without_a_token_is_unverified(customer_socket):
    _socket, welcome = await customer_socket(email="Someone@Example.com")

    assert welcome["verified"] is False
    assert welcome["email"] == "someone@example.com"
    assert welcome["payments"] == []


@pytest.mark.parametrize(
    ("hello", "reason"),
    [
        ({"token": "not-a-token"}, "malformed"),
        ({"token": "e30.forged"}, "signature"),
        ({"email": "not an email"}, "not an email"),
        ({}, "email address is needed"),
    ],
)
async def test_a_bad_identity_is_refused_with_a_clear_close_code(open_socket, hello, reason):
    socket = await open_socket("/ws/chat/")
    await socket.send_json_to({"type": "hello", **hello})

    message = await socket.receive_output(timeout=3)

    assert message["type"] == "websocket.close"
    assert message["code"] == consumers.CLOSE_BAD_TOKEN
    assert reason in message["reason"]


async def test_an_expired_token_is_refused(open_socket):
    socket = await open_socket("/ws/chat/")
    await socket.send_json_to({"type": "hello", "token": token_for(ANA, ttl_s=-5)})

    message = await socket.receive_output(timeout=3)

    assert message["code"] == consumers.CLOSE_BAD_TOKEN
    assert "expired" in message["reason"]


async def test_anything_but_a_hello_first_is_refused(open_socket):
    socket = await open_socket("/ws/chat/")
    await socket.send_json_to({"type": "message", "client_id": "1", "body": "hi"})

    assert await close_code(socket) == consumers.CLOSE_BAD_HELLO


async def test_a_socket_that_never_says_hello_is_closed(open_socket, monkeypatch):
    monkeypatch.setattr(consumers, "HELLO_TIMEOUT_S", 0.2)
    socket = await open_socket("/ws/chat/")

    assert await close_code(socket) == consumers.CLOSE_HELLO_TIMEOUT


# Origins -------------------------------------------------------------------------------------


async def test_a_page_of_an_allowed_merchant_may_open_the_widget(open_socket):
    socket = await open_socket("/ws/chat/", origin="https://shop.example")
    assert socket.connected


async def test_paydesks_own_pages_may_open_the_widget(open_socket):
    socket = await open_socket("/ws/chat/", origin=PAYDESK)
    assert socket.connected


@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", None])
async def test_other_origins_are_refused(open_socket, origin):
    socket = await open_socket("/ws/chat/", origin=origin)
    assert not socket.connected


async def test_a_merchant_page_may_not_open_the_agents_socket(open_socket, sam):
    socket = await open_socket("/ws/chat/agent/", sam, origin="https://shop.example")
    assert not socket.connected


# A customer's own conversations only ---------------------------------------------------------


async def test_a_verified_customer_cannot_open_another_customers_conversation(
    customer_socket, open_socket
):
    ana, _ = await customer_socket(token=token_for(ANA))
    await say(ana, "a1", "Hello, my payment failed")
    conversation = await database_sync_to_async(Conversation.objects.get)()

    mallory = await open_socket("/ws/chat/")
    await mallory.send_json_to(
        {
            "type": "hello",
            "token": token_for("mallory@example.com"),
            "conversation": conversation.pk,
        }
    )

    assert await close_code(mallory) == consumers.CLOSE_NOT_YOURS


async def test_an_unverified_customer_needs_the_conversations_key(customer_socket, open_socket):
    first, _ = await customer_socket(email="bo@example.com")
    await first.send_json_to({"type": "message", "client_id": "b1", "body": "Hi there"})
    started = await receive_until(first, type="conversation")
    conversation_id, key = started["conversation"]["id"], started["conversation"]["key"]

    # The same email without the key: anyone can type an email address.
    impostor = await open_socket("/ws/chat/")
    await impostor.send_json_to(
        {"type": "hello", "email": "bo@example.com", "conversation": conversation_id}
    )
    assert await close_code(impostor) == consumers.CLOSE_NOT_YOURS

    _again, welcome = await customer_socket(
        email="bo@example.com", conversation=conversation_id, key=key
    )
    assert welcome["conversation"]["id"] == conversation_id


async def test_a_verified_customer_gets_back_to_their_conversation_on_another_page(
    customer_socket,
):
    first, _ = await customer_socket(token=token_for(ANA))
    await say(first, "a1", "Where is my refund?")
    conversation = await database_sync_to_async(Conversation.objects.get)()

    _, welcome = await customer_socket(token=token_for(ANA), conversation=conversation.pk)

    assert welcome["conversation"]["id"] == conversation.pk


# Never lose a message, never store it twice --------------------------------------------------


async def test_a_message_is_stored_before_it_is_acknowledged(customer_socket):
    socket, _ = await customer_socket(token=token_for(ANA))

    ack = await say(socket, "c-1", "My card was declined")

    conversation = await database_sync_to_async(Conversation.objects.get)()
    rows = await database_sync_to_async(stored)(conversation.pk)
    assert rows[0] == (ack["seq"], "customer", "My card was declined")
    assert ack["conversation"] == conversation.pk


async def test_a_resend_with_the_same_client_id_is_stored_once(customer_socket):
    socket, _ = await customer_socket(token=token_for(ANA))
    first = await say(socket, "c-1", "Hello?")

    again = await say(socket, "c-1", "Hello?")

    assert again["seq"] == first["seq"]
    conversation = await database_sync_to_async(Conversation.objects.get)()
    customer_rows = [
        r for r in await database_sync_to_async(stored)(conversation.pk) if r[1] == "customer"
    ]
    assert customer_rows == [(first["seq"], "customer", "Hello?")]


async def test_a_resend_after_reconnecting_is_stored_once(customer_socket):
    socket, _ = await customer_socket(token=token_for(ANA))
    first = await say(socket, "c-1", "Hello?")
    await socket.disconnect()

    again, _ = await customer_socket(token=token_for(ANA), conversation=first["conversation"])
    resent = await say(again, "c-1", "Hello?")

    assert resent["seq"] == first["seq"]
    count = await database_sync_to_async(ChatMessage.objects.filter(client_id="c-1").count)()
    assert count == 1


async def test_a_reconnecting_customer_gets_everything_after_their_last_sequence(
    customer_socket, agent_socket, sam
):
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "First")
    conversation_id = first["conversation"]
    await ana.disconnect()

    agent = await agent_socket(sam)
    await agent.send_json_to({"type": "open", "conversation": conversation_id})
    for n in range(3):
        await say(agent, f"s-{n}", f"Answer {n}", conversation=conversation_id)

    back, _ = await customer_socket(
        token=token_for(ANA), conversation=conversation_id, after=first["seq"]
    )
    bodies = []
    while len(bodies) < 3:
        message = await receive_until(back, type="message")
        if message["message"]["sender"] == "agent":
            bodies.append(message["message"]["body"])
    assert bodies == ["Answer 0", "Answer 1", "Answer 2"]

    # And asked again later, only what is newer: no message again. The live copies of the
    # answers may still be on their way over Redis (the process heard the conversation's group
    # for the agent already); the client drops those by sequence number. Let them land first.
    await kinds_received(back, seconds=0.5)
    await back.send_json_to({"type": "resume", "after": 10**6})
    assert [kind for kind in await kinds_received(back, seconds=0.4) if kind == "message"] == []


async def test_sequence_numbers_increase_without_gaps(customer_socket):
    socket, _ = await customer_socket(token=token_for(ANA))
    acks = [await say(socket, f"c-{n}", f"Message {n}") for n in range(5)]

    conversation = await database_sync_to_async(Conversation.objects.get)()
    seqs = [row[0] for row in await database_sync_to_async(stored)(conversation.pk)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [ack["seq"] for ack in acks] == sorted({ack["seq"] for ack in acks})


# Card numbers --------------------------------------------------------------------------------


async def test_a_card_number_is_masked_before_it_is_stored_or_sent(
    customer_socket, agent_socket, sam
):
    ana, agent, _conversation_id = await agent_has_the_chat_open(customer_socket, agent_socket, sam)

    ack = await say(ana, "c-2", "My card is 4242 4242 4242 4242, exp 12/27")

    assert ack["card_number_masked"] is True
    assert "4242 4242 4242 4242" not in ack["body"]
    assert ack["body"].startswith("My card is 424242••••••4242")
    relayed = await receive_until(agent, type="message")
    while relayed["message"]["client_id"] != "c-2":
        relayed = await receive_until(agent, type="message")
    assert relayed["message"]["body"] == ack["body"]
    assert relayed["message"]["card_number_masked"] is True
    bodies = await database_sync_to_async(
        lambda: (
            list(TimelineEntry.objects.values_list("body", flat=True))
            + list(ChatMessage.objects.values_list("body", flat=True))
        )
    )()
    assert not any("4242424242424242" in b.replace(" ", "") for b in bodies)


# Limits --------------------------------------------------------------------------------------


async def test_too_many_messages_a_minute_are_refused_and_not_stored(customer_socket, settings):
    settings.CHAT_MESSAGES_PER_MINUTE = 3
    socket, _ = await customer_socket(token=token_for(ANA))
    for n in range(3):
        await say(socket, f"c-{n}", f"Message {n}")

    await socket.send_json_to({"type": "message", "client_id": "c-3", "body": "One more"})
    refused = await receive_until(socket, type="nack", client_id="c-3")

    assert refused["error"] == "rate_limited"
    assert refused["retry_after"] > 0
    assert not await database_sync_to_async(ChatMessage.objects.filter(client_id="c-3").exists)()


async def test_a_message_too_long_is_refused(customer_socket, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 20
    socket, _ = await customer_socket(token=token_for(ANA))

    await socket.send_json_to({"type": "message", "client_id": "c-1", "body": "x" * 21})
    refused = await receive_until(socket, type="nack", client_id="c-1")

    assert refused["error"] == "too_long"
    assert "20" in refused["message"]


async def test_a_message_without_a_client_id_gets_an_error(customer_socket):
    socket, _ = await customer_socket(token=token_for(ANA))

    await socket.send_json_to({"type": "message", "body": "Hello"})

    assert (await receive_until(socket, type="error"))["message"] == consumers.ERROR_CLIENT_ID


async def test_malformed_messages_get_an_error_and_the_socket_stays_usable(customer_socket):
    socket, _ = await customer_socket(token=token_for(ANA))
    await socket.send_to(text_data="{not json")
    assert (await receive_until(socket, type="error"))["message"] == consumers.ERROR_MALFORMED
    await socket.send_json_to({"type": "__class__"})
    assert (await receive_until(socket, type="error"))["message"] == consumers.ERROR_UNKNOWN_TYPE
    await socket.send_json_to({"type": "ping"})
    assert await receive_until(socket, type="pong")


# Customer and agent --------------------------------------------------------------------------


async def test_customer_and_agent_talk_with_typing_and_read_marks(
    customer_socket, agent_socket, sam
):
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "Can someone help me?")
    conversation_id = first["conversation"]
    agent = await agent_socket(sam)
    await agent.send_json_to({"type": "open", "conversation": conversation_id})
    opened = await receive_until(agent, type="conversation")
    assert opened["conversation"]["customer"]["email"] == ANA

    await agent.send_json_to({"type": "accept", "conversation": conversation_id})
    joined = await receive_until(ana, type="conversation")
    while joined["conversation"]["status"] != ConversationStatus.ACTIVE:
        joined = await receive_until(ana, type="conversation")
    assert joined["conversation"]["agent"]["name"] == "Sam Rivera"
    assert joined["conversation"]["agent"]["initials"] == "SR"

    await agent.send_json_to({"type": "typing", "conversation": conversation_id, "state": True})
    typing = await receive_until(ana, type="typing")
    assert typing == {
        "type": "typing",
        "conversation": conversation_id,
        "side": "agent",
        "name": "Sam Rivera",
        "state": True,
    }

    answer = await say(agent, "s-1", "Of course — what happened? 🙂", conversation=conversation_id)
    heard = await receive_until(ana, type="message")
    while heard["message"]["sender"] != "agent":
        heard = await receive_until(ana, type="message")
    assert heard["message"]["body"] == "Of course — what happened? 🙂"
    assert heard["message"]["agent"]["name"] == "Sam Rivera"

    await ana.send_json_to({"type": "receipt", "delivered": answer["seq"], "read": answer["seq"]})
    receipt = await receive_until(agent, type="receipt")
    assert receipt["side"] == "customer"
    assert receipt["read"] == answer["seq"]

    await ana.send_json_to({"type": "message", "client_id": "c-2", "body": "Καλησπέρα، سلام"})
    relayed = await receive_until(agent, type="message")
    while relayed["message"]["client_id"] != "c-2":
        relayed = await receive_until(agent, type="message")
    assert relayed["message"]["body"] == "Καλησπέρα، سلام"


async def test_every_chat_message_is_on_the_tickets_timeline(customer_socket, agent_socket, sam):
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "Hello from the checkout")
    agent = await agent_socket(sam)
    await say(agent, "s-1", "Hello Ana", conversation=first["conversation"])

    conversation = await database_sync_to_async(Conversation.objects.get)()
    kinds = await database_sync_to_async(
        lambda: list(
            TimelineEntry.objects.filter(ticket=conversation.ticket)
            .exclude(
                kind__in=[
                    EntryKind.TICKET_CREATED,
                    EntryKind.CHAT_EVENT,
                    EntryKind.ASSIGNMENT_CHANGE,
                    EntryKind.STATUS_CHANGE,
                ]
            )
            .values_list("kind", "body", "public")
        )
    )()
    assert kinds == [
        (EntryKind.CUSTOMER_MESSAGE, "Hello from the checkout", True),
        (EntryKind.AGENT_REPLY, "Hello Ana", True),
    ]


async def test_a_second_agent_cannot_write_in_a_colleagues_chat(
    customer_socket, agent_socket, sam, noor
):
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "Hello")
    sam_socket = await agent_socket(sam)
    await say(sam_socket, "s-1", "Sam here", conversation=first["conversation"])

    noor_socket = await agent_socket(noor)
    await noor_socket.send_json_to(
        {
            "type": "message",
            "conversation": first["conversation"],
            "client_id": "n-1",
            "body": "Noor here",
        }
    )
    refused = await receive_until(noor_socket, type="nack", client_id="n-1")

    assert "Another agent" in refused["message"]


async def test_a_message_in_a_chat_an_agent_has_is_news_to_them_not_their_team(
    customer_socket, agent_socket, sam, noor
):
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "Hello")
    sam_socket, noor_socket = await agent_socket(sam), await agent_socket(noor)

    await say(ana, "c-2", "Anyone?")  # still waiting: the whole team's inbox changed
    heard = await asyncio.gather(
        kinds_received(sam_socket, seconds=0.5), kinds_received(noor_socket, seconds=0.5)
    )
    assert ["inbox" in kinds for kinds in heard] == [True, True]

    await say(sam_socket, "s-1", "Sam here", conversation=first["conversation"])
    await asyncio.gather(
        kinds_received(sam_socket, seconds=0.3), kinds_received(noor_socket, seconds=0.3)
    )
    await say(ana, "c-3", "It was declined")
    heard = await asyncio.gather(
        kinds_received(sam_socket, seconds=0.5), kinds_received(noor_socket, seconds=0.5)
    )
    assert ["inbox" in kinds for kinds in heard] == [True, False]


async def test_an_agent_of_another_team_cannot_open_the_chat(customer_socket, agent_socket):
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "Hello")
    outsider = AgentFactory.build(username="oscar")
    outsider = await database_sync_to_async(
        lambda: AgentFactory(username="oscar", team=TeamFactory(name="Wallets"))
    )()

    socket = await agent_socket(outsider)
    await socket.send_json_to({"type": "open", "conversation": first["conversation"]})

    assert (await receive_until(socket, type="error"))["message"] == (
        consumers.ERROR_NO_CONVERSATION
    )


async def test_a_message_reaches_the_agent_while_the_database_thread_is_busy(
    customer_socket, agent_socket, sam
):
    _ana, agent, conversation_id = await agent_has_the_chat_open(customer_socket, agent_socket, sam)
    busy = threading.Event()
    # Another conversation's slow query holds the thread database calls run on.
    blocker = asyncio.ensure_future(database_sync_to_async(busy.wait)(5))
    try:
        await get_channel_layer().group_send(
            live.conversation_group(conversation_id),
            {"type": live.CHAT_MESSAGE, "message": {"seq": 99, "body": "passed on"}},
        )
        heard = await receive_until(agent, timeout=1, type="message")
        while heard["message"].get("seq") != 99:
            heard = await receive_until(agent, timeout=1, type="message")
        assert heard["message"]["body"] == "passed on"
    finally:
        busy.set()
        await blocker


async def test_an_agent_taken_off_the_team_loses_the_open_chat(
    customer_socket, agent_socket, sam, support_team, monkeypatch
):
    monkeypatch.setattr(consumers, "ACCESS_RECHECK_S", 0)
    _ana, agent, conversation_id = await agent_has_the_chat_open(customer_socket, agent_socket, sam)
    await say(agent, "s-1", "Sam here", conversation=conversation_id)

    await database_sync_to_async(support_team.members.remove)(sam)
    await agent.send_json_to(
        {"type": "message", "conversation": conversation_id, "client_id": "s-2", "body": "x"}
    )

    assert (await receive_until(agent, type="gone"))["conversation"] == conversation_id
    assert (await receive_until(agent, type="error"))["message"] == consumers.ERROR_NO_CONVERSATION
    messages = await database_sync_to_async(stored)(conversation_id)
    assert [body for _, _, body in messages if body == "x"] == []


async def test_the_agents_socket_refuses_anonymous_visitors_and_customers(open_socket):
    socket = await open_socket("/ws/chat/agent/", origin=PAYDESK)
    assert await close_code(socket) == consumers.CLOSE_NOT_SIGNED_IN


async def test_an_agent_is_online_while_a_tab_is_open_and_can_step_away(agent_socket, sam):
    socket = await agent_socket(sam)
    assert await database_sync_to_async(agent_status)(sam) == "online"

    await socket.send_json_to({"type": "status", "status": "away"})
    await receive_until(socket, type="status")
    assert await database_sync_to_async(agent_status)(sam) == "away"

    await socket.send_json_to({"type": "status", "status": "online"})
    await receive_until(socket, type="status")
    await socket.disconnect()
    assert await database_sync_to_async(agent_status)(sam) == "offline"


# Payment status ------------------------------------------------------------------------------


def post_failed_payment(client, *, event_id: str, created: int, **changes):
    """A real Stripe sample, for Ana, through the real endpoint with a real signature."""
    import json

    from django.test import TestCase

    from tests.conftest import stripe_event, stripe_headers

    event = stripe_event(
        "payment_intent.payment_failed",
        event_id=event_id,
        created=created,
        receipt_email=ANA,
        **changes,
    )
    body = json.dumps(event).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/webhooks/stripe/",
            data=body,
            content_type="application/json",
            **stripe_headers(body),
        )
    assert response.status_code == 200, response.content


async def test_a_verified_customer_sees_their_failed_payment_in_plain_words(
    customer_socket, client
):
    await database_sync_to_async(post_failed_payment)(client, event_id="evt_1", created=1000)

    _, welcome = await customer_socket(token=token_for(ANA), language="en")

    (payment,) = welcome["payments"]
    assert payment["failed"] is True
    assert payment["words"].startswith("Your payment of")
    assert "did not go through" in payment["words"]
    assert [a["code"] for a in welcome["alternatives"]] == [
        "card",
        "paypal",
        "apple_pay",
        "google_pay",
    ]


async def test_the_widget_hears_when_a_webhook_changes_the_payment(customer_socket, client):
    _, welcome = await customer_socket(token=token_for(ANA))
    assert welcome["payments"] == []
    socket, _ = await customer_socket(token=token_for(ANA))

    await database_sync_to_async(post_failed_payment)(client, event_id="evt_1", created=1000)

    update = await receive_until(socket, type="payments")
    assert update["payments"][0]["failed"] is True


async def test_another_customers_payment_change_is_not_heard(customer_socket, client):
    socket, _ = await customer_socket(token=token_for("bo@example.com"))

    await database_sync_to_async(post_failed_payment)(client, event_id="evt_1", created=1000)

    assert await socket.receive_nothing(timeout=0.3)


async def test_the_payment_is_described_in_the_customers_language(customer_socket, client):
    await database_sync_to_async(post_failed_payment)(client, event_id="evt_1", created=1000)

    _, welcome = await customer_socket(token=token_for(ANA), language="el")

    assert "Your payment" not in welcome["payments"][0]["words"]


@pytest.mark.parametrize("verified", [True, False])
async def test_a_first_message_resent_before_its_answer_arrived_starts_no_second_conversation(
    customer_socket, verified
):
    hello = {"token": token_for(ANA)} if verified else {"email": "bo@example.com"}
    # The first message starts the conversation; the connection drops before the widget hears
    # the conversation's number, so it sends the message again on a new connection.
    lost, _ = await customer_socket(**hello)
    first = await say(lost, "c-1", "Hello, anyone?")
    await lost.disconnect()

    again, welcome = await customer_socket(**hello)
    assert welcome["conversation"] is None
    await again.send_json_to({"type": "message", "client_id": "c-1", "body": "Hello, anyone?"})
    started = await receive_until(again, type="conversation")
    ack = await receive_until(again, type="ack", client_id="c-1")

    assert ack["seq"] == first["seq"]
    assert started["conversation"]["id"] == first["conversation"]
    assert await database_sync_to_async(Conversation.objects.count)() == 1
    # The new key opens the conversation (the first one never reached the widget).
    _, back = await customer_socket(
        **hello, conversation=first["conversation"], key=started["conversation"]["key"]
    )
    assert back["conversation"]["id"] == first["conversation"]


async def test_another_customer_cannot_take_over_a_conversation_by_its_client_id(
    customer_socket,
):
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "Hello")

    mallory, _ = await customer_socket(email="mallory@example.com")
    await mallory.send_json_to({"type": "message", "client_id": "c-1", "body": "Hello"})
    started = await receive_until(mallory, type="conversation")

    assert started["conversation"]["id"] != first["conversation"]


# What a client cannot make the server do -----------------------------------------------------


async def test_the_transcript_is_sent_once_in_a_while_not_on_every_request(customer_socket):
    socket, _ = await customer_socket(email="victim@example.org")
    await say(socket, "c-1", "Hello")
    await say(socket, "c-2", "Hello again")  # the server re-read the conversation since

    await socket.send_json_to({"type": "transcript"})
    sent = await receive_until(socket, type="transcript")
    await socket.send_json_to({"type": "transcript"})
    refused = await receive_until(socket, type="error")

    assert sent["email"] == "victim@example.org"
    assert "a moment ago" in refused["message"]


async def test_asking_for_a_person_again_and_again_changes_nothing(customer_socket, sam):
    socket, _ = await customer_socket(token=token_for(ANA))
    first = await say(socket, "c-1", "Hello")
    for _ in range(5):
        await socket.send_json_to({"type": "agent"})
    await socket.send_json_to({"type": "ping"})
    await receive_until(socket, type="pong")

    system = await database_sync_to_async(
        ChatMessage.objects.filter(conversation_id=first["conversation"], sender="system").count
    )()
    assert system == 1


async def test_a_message_resent_after_the_chat_closed_is_not_stored_again(
    customer_socket, agent_socket, sam
):
    ana, _ = await customer_socket(token=token_for(ANA))
    first = await say(ana, "c-1", "Hello")
    agent = await agent_socket(sam)
    await agent.send_json_to({"type": "close", "conversation": first["conversation"]})
    while (await receive_until(ana, type="conversation"))["conversation"]["status"] != "closed":
        pass

    again = await say(ana, "c-1", "Hello")

    assert again["seq"] == first["seq"]
    assert again["conversation"] == first["conversation"]
    assert await database_sync_to_async(Conversation.objects.count)() == 1


async def test_an_empty_message_starts_no_conversation(customer_socket):
    socket, _ = await customer_socket(token=token_for(ANA))

    await socket.send_json_to({"type": "message", "client_id": "c-1", "body": "   "})
    refused = await receive_until(socket, type="nack")

    assert refused["client_id"] == "c-1"
    assert await database_sync_to_async(Conversation.objects.count)() == 0


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "receipt", "delivered": 2**70, "read": -(2**70)},
        {"type": "resume", "after": 2**70},
        {"type": "typing", "state": ["yes"]},
    ],
)
async def test_odd_numbers_and_shapes_do_not_break_the_socket(customer_socket, frame):
    socket, _ = await customer_socket(token=token_for(ANA))
    await say(socket, "c-1", "Hello")

    await socket.send_json_to(frame)
    await socket.send_json_to({"type": "ping"})

    assert await receive_until(socket, type="pong")


async def test_a_non_ascii_token_is_refused_with_the_bad_token_code(open_socket):
    socket = await open_socket("/ws/chat/")
    await socket.send_json_to({"type": "hello", "token": "é.ü"})

    assert await close_code(socket) == consumers.CLOSE_BAD_TOKEN


async def test_a_language_that_is_not_a_string_falls_back_to_english(customer_socket):
    _, welcome = await customer_socket(token=token_for(ANA), language=["el"])

    assert welcome["language"] == "en"

"""What the agents' chat inbox lists: whose conversations, in which tab, with what on each row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import (
    AgentConnection,
    AgentPresence,
    AgentStatus,
    ChatMessage,
    Conversation,
    ConversationStatus,
    Sender,
)
from chat.selectors import (
    InboxTab,
    agents_with_status,
    conversation_get_for_agent,
    inbox_counts,
    inbox_list,
)
from tests.factories import AdminFactory, AgentFactory, CustomerFactory, TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db


def conversation_with(team, *messages, status=ConversationStatus.WAITING, assignee=None, **fields):
    """A conversation on a new ticket of `team`, holding `messages`: (sender, body, minutes ago)
    tuples, oldest first."""
    customer = fields.pop("customer", None) or CustomerFactory()
    ticket = TicketFactory(team=team, customer=customer)
    conversation = Conversation.objects.create(
        ticket=ticket, customer=customer, team=team, status=status, assignee=assignee, **fields
    )
    now = timezone.now()
    for seq, (sender, body, minutes_ago) in enumerate(messages, start=1):
        message = ChatMessage.objects.create(
            conversation=conversation, seq=seq, sender=sender, body=body
        )
        ChatMessage.objects.filter(pk=message.pk).update(
            created_at=now - timedelta(minutes=minutes_ago)
        )
    if messages:
        Conversation.objects.filter(pk=conversation.pk).update(
            last_seq=len(messages), last_message_at=now - timedelta(minutes=messages[-1][2])
        )
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def cards():
    return TeamFactory(name="Card payments")


@pytest.fixture
def alice(cards):
    return AgentFactory(username="alice", team=cards)


def test_an_agent_sees_the_conversations_of_their_teams_and_an_admin_all(cards, alice):
    ours = conversation_with(cards)
    theirs = conversation_with(TeamFactory(name="Wallets"))

    assert [c.pk for c in inbox_list(user=alice, tab=InboxTab.ALL)] == [ours.pk]
    assert {c.pk for c in inbox_list(user=AdminFactory(), tab=InboxTab.ALL)} == {
        ours.pk,
        theirs.pk,
    }
    assert conversation_get_for_agent(user=alice, pk=theirs.pk) is None
    assert conversation_get_for_agent(user=alice, pk=ours.pk) == ours


def test_each_tab_holds_its_live_conversations(cards, alice):
    bob = AgentFactory(username="bob", team=cards)
    waiting = conversation_with(cards)
    mine = conversation_with(cards, status=ConversationStatus.ACTIVE, assignee=alice)
    bobs = conversation_with(cards, status=ConversationStatus.ACTIVE, assignee=bob)
    answered = conversation_with(cards, status=ConversationStatus.ANSWERED)
    conversation_with(cards, status=ConversationStatus.CLOSED, assignee=alice)
    conversation_with(cards, status=ConversationStatus.OFFLINE)

    def tab(name):
        return {c.pk for c in inbox_list(user=alice, tab=name)}

    assert tab(InboxTab.WAITING) == {waiting.pk}
    assert tab(InboxTab.MINE) == {mine.pk}
    assert tab(InboxTab.ALL) == {waiting.pk, mine.pk, bobs.pk, answered.pk}
    assert inbox_counts(user=alice) == {"waiting": 1, "mine": 1, "all": 4}


def test_a_row_has_the_last_message_the_unread_count_and_how_long_the_customer_waits(cards, alice):
    conversation = conversation_with(
        cards,
        (Sender.CUSTOMER, "My card was declined", 12),
        (Sender.SYSTEM, "We are finding an agent for you", 12),
        (Sender.CUSTOMER, "Hello?", 5),
        (Sender.CUSTOMER, "پرداخت من انجام نشد", 1),
    )
    Conversation.objects.filter(pk=conversation.pk).update(agent_read_seq=3)

    (row,) = inbox_list(user=alice, tab=InboxTab.WAITING)

    assert row.last_body == "پرداخت من انجام نشد"
    assert row.last_sender == Sender.CUSTOMER
    assert row.unread == 1  # only the customer message after what agents read
    first = ChatMessage.objects.get(conversation=conversation, seq=1)
    assert row.waiting_since == first.created_at


def test_an_answered_customer_waits_again_only_from_their_next_message(cards, alice):
    conversation = conversation_with(
        cards,
        (Sender.CUSTOMER, "Hi", 20),
        (Sender.AGENT, "Hello, how can I help?", 15),
        status=ConversationStatus.ACTIVE,
        assignee=alice,
    )
    (row,) = inbox_list(user=alice, tab=InboxTab.MINE)
    assert row.waiting_since is None
    assert row.last_sender == Sender.AGENT

    message = ChatMessage.objects.create(
        conversation=conversation, seq=3, sender=Sender.CUSTOMER, body="It failed again"
    )
    (row,) = inbox_list(user=alice, tab=InboxTab.MINE)
    assert row.waiting_since == message.created_at
    assert row.unread == 2


def test_the_customer_who_waits_longest_comes_first(cards, alice):
    recent = conversation_with(cards, (Sender.CUSTOMER, "Just now", 1))
    oldest = conversation_with(cards, (Sender.CUSTOMER, "Long ago", 30))
    middle = conversation_with(cards, (Sender.CUSTOMER, "A while ago", 10))
    silent = conversation_with(cards)

    rows = [c.pk for c in inbox_list(user=alice, tab=InboxTab.WAITING)]

    assert rows == [oldest.pk, middle.pk, recent.pk, silent.pk]


def test_an_attachment_without_words_shows_its_name(cards, alice):
    conversation = conversation_with(cards)
    attachment = conversation.attachments.create(
        file="chat/receipt.png",
        name="receipt.png",
        content_type="image/png",
        size=10,
        uploaded_by=Sender.CUSTOMER,
    )
    ChatMessage.objects.create(
        conversation=conversation, seq=1, sender=Sender.CUSTOMER, attachment=attachment
    )

    (row,) = inbox_list(user=alice, tab=InboxTab.WAITING)

    assert (row.last_body, row.last_attachment) == ("", "receipt.png")


def test_agents_appear_online_only_with_a_connected_tab_and_as_they_chose(cards, alice):
    bob = AgentFactory(username="bob", team=cards)
    cara = AgentFactory(username="cara", team=cards)
    AgentFactory(username="oscar", team=TeamFactory(name="Wallets"))  # not a colleague
    now = timezone.now()
    AgentConnection.objects.create(user=alice, channel_name="a", seen_at=now)
    AgentConnection.objects.create(user=bob, channel_name="b", seen_at=now)
    AgentPresence.objects.create(user=bob, status=AgentStatus.AWAY)
    AgentPresence.objects.create(user=cara, status=AgentStatus.ONLINE)  # but no tab open
    # A connection its process never refreshed does not count.
    AgentConnection.objects.create(user=cara, channel_name="c", seen_at=now - timedelta(hours=1))

    statuses = {agent.username: agent.chat_status for agent in agents_with_status(user=alice)}

    assert statuses == {"alice": "online", "bob": "away", "cara": "offline"}

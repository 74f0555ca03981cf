"""What one chat message costs the database once a conversation is under way: every message of
every live chat pays it, on the thread a server process runs all its chat queries on."""

import pytest

from chat import services
from chat.identity import ChatIdentity

pytestmark = pytest.mark.django_db

ANA = ChatIdentity(email="ana@example.com", name="Ana Lopez", verified=True)


@pytest.fixture
def conversation(support_team, sam):
    conversation, _ = services.conversation_start(identity=ANA, language="en")
    services.customer_message_receive(conversation=conversation, body="My card", client_id="c1")
    services.agent_message_post(
        conversation_id=conversation.pk, agent=sam, body="Hello Ana", client_id="a1"
    )
    return conversation


def test_a_customer_message_to_an_agent_is_one_short_transaction(
    conversation, django_assert_max_num_queries
):
    # The lock (with the ticket), the timeline entry, the ticket, the message, the conversation;
    # and the savepoint a test's own transaction makes of the message's (two statements). No
    # resend check (only a message refused looks for its copy), and no query for whether to
    # notify the assignee: the lock showed them in the chat.
    with django_assert_max_num_queries(7):
        message, caused = services.customer_message_receive(
            conversation=conversation, body="It was declined", client_id="c2"
        )

    assert caused == [message]
    assert message.seq == conversation.last_seq
    assert message.entry.ticket_id == conversation.ticket_id


def test_an_agent_message_is_one_short_transaction(
    conversation, sam, django_assert_max_num_queries
):
    # The same, the ticket's status (new -> open) in its update.
    with django_assert_max_num_queries(7):
        message, created = services.agent_message_post(
            conversation_id=conversation.pk, agent=sam, body="Try another card", client_id="a2"
        )

    assert created
    assert message.entry.kind == "agent_reply"


def test_an_agent_message_sent_again_is_the_one_stored(conversation, sam):
    again, created = services.agent_message_post(
        conversation_id=conversation.pk, agent=sam, body="Hello Ana", client_id="a1"
    )

    assert not created
    assert again.body == "Hello Ana"
    assert conversation.messages.filter(client_id="a1").count() == 1

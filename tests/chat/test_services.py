"""The chat's services directly: which ticket a chat lands on, hand-offs, offline, closing and
rating, transcripts, and an agent's reply on the ticket reaching the chat."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from chat import services
from chat.identity import ChatIdentity
from chat.models import AgentConnection, ChatMessage, ConversationStatus, Sender
from chat.presence import agent_status_set, team_available
from notifications.models import Kind, Notification
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.hours import team_is_open
from tickets.models import BusinessHours, Channel, EntryKind, Holiday, Reason, Status
from tickets.services import ticket_reply, ticket_update

pytestmark = pytest.mark.django_db

ANA = ChatIdentity(email="ana@example.com", name="Ana Lopez", verified=True)
STRANGER = ChatIdentity(email="ana@example.com", name="Not Ana")


def online(agent) -> None:
    AgentConnection.objects.create(user=agent, channel_name=f"c-{agent.pk}", seen_at=timezone.now())


def start(identity=ANA, language="en"):
    conversation, key = services.conversation_start(identity=identity, language=language)
    return conversation, key


def bodies(conversation) -> list[tuple[str, str]]:
    return list(conversation.messages.order_by("seq").values_list("sender", "body"))


# Which ticket --------------------------------------------------------------------------------


def test_a_chat_without_an_open_payment_ticket_makes_a_chat_ticket(support_team):
    conversation, _ = start()

    ticket = conversation.ticket
    assert ticket.channel == Channel.CHAT
    assert ticket.reason == Reason.QUESTION
    assert ticket.customer.email == "ana@example.com"
    assert ticket.subject == "Chat with Ana Lopez"
    assert conversation.team == ticket.team == support_team


def test_a_verified_customer_lands_on_their_open_payment_ticket(support_team):
    first, _ = start()
    payment_ticket = TicketFactory(
        customer=first.customer, reason=Reason.PAYMENT_FAILED, team=support_team
    )

    conversation, _ = start()

    assert conversation.ticket == payment_ticket


def test_an_unverified_customer_never_lands_on_someone_elses_ticket(support_team):
    verified, _ = start()
    TicketFactory(customer=verified.customer, reason=Reason.PAYMENT_FAILED, team=support_team)

    conversation, _ = start(STRANGER)

    assert conversation.ticket.channel == Channel.CHAT
    assert not conversation.verified
    assert services.recent_payments(STRANGER) == []


def test_the_access_key_is_stored_only_as_a_hash(support_team):
    conversation, key = start(STRANGER)

    assert key not in conversation.access_key_hash
    assert (
        services.conversation_for_customer(
            identity=STRANGER, conversation_id=conversation.pk, access_key=key
        )
        == conversation
    )
    assert (
        services.conversation_for_customer(
            identity=STRANGER, conversation_id=conversation.pk, access_key=key + "x"
        )
        is None
    )


# To an agent, or by email --------------------------------------------------------------------


def test_a_first_message_goes_to_the_inbox_when_an_agent_is_online(support_team, sam):
    online(sam)
    conversation, _ = start()

    _message, caused = services.customer_message_receive(
        conversation=conversation, body="My card was declined twice", client_id="c1"
    )

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.WAITING
    assert [m.sender for m in caused] == [Sender.CUSTOMER, Sender.SYSTEM]
    assert "finding an agent" in caused[1].body


def test_with_nobody_online_the_customer_is_told_the_answer_comes_by_email(support_team, sam):
    conversation, _ = start()

    services.customer_message_receive(
        conversation=conversation, body="Is anyone there?", client_id="c1"
    )

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OFFLINE
    assert "ana@example.com" in bodies(conversation)[-1][1]
    assert conversation.ticket.timeline.filter(
        kind=EntryKind.CUSTOMER_MESSAGE, body="Is anyone there?"
    ).exists()


def test_an_agent_who_stepped_away_does_not_count_as_online(support_team, sam):
    online(sam)
    agent_status_set(user=sam, status="away")

    assert not team_available(support_team)


def test_an_agent_whose_socket_went_silent_does_not_count(support_team, sam):
    AgentConnection.objects.create(
        user=sam, channel_name="stale", seen_at=timezone.now() - timedelta(minutes=5)
    )

    assert not team_available(support_team)


def test_outside_business_hours_nobody_is_available(support_team, sam):
    online(sam)
    support_team.time_zone = "Europe/Athens"
    support_team.save()
    # Open only on Mondays 09:00-17:00 Athens time: 2026-11-23 is a Monday.
    BusinessHours.objects.create(team=support_team, weekday=0, opens=time(9), closes=time(17))

    monday_noon_athens = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 12:00 in Athens
    monday_evening_athens = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 18:00 in Athens
    tuesday_noon_athens = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert team_is_open(support_team, monday_noon_athens)
    assert not team_is_open(support_team, monday_evening_athens)
    assert not team_is_open(support_team, tuesday_noon_athens)

    Holiday.objects.create(team=support_team, date=date(2026, 11, 23), name="Closed")
    assert not team_is_open(support_team, monday_noon_athens)


def test_a_team_without_business_hours_is_always_open(support_team):
    assert team_is_open(support_team, datetime(2026, 11, 29, 3, 0, tzinfo=UTC))


# Agents --------------------------------------------------------------------------------------


def test_accepting_a_chat_assigns_it_and_its_ticket(support_team, sam):
    conversation, _ = start()

    services.conversation_accept(conversation=conversation, agent=sam)

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ACTIVE
    assert conversation.assignee == sam
    assert conversation.ticket.assignee == sam
    assert bodies(conversation)[-1] == (Sender.SYSTEM, "Sam Rivera joined the chat.")


def test_a_chat_taken_by_one_agent_cannot_be_taken_by_another(support_team, sam, noor):
    conversation, _ = start()
    services.conversation_accept(conversation=conversation, agent=sam)

    with pytest.raises(services.ChatError, match="Another agent"):
        services.conversation_accept(conversation=conversation, agent=noor)


def test_transfer_to_a_colleague_moves_chat_and_ticket(support_team, sam, noor):
    conversation, _ = start()
    services.conversation_accept(conversation=conversation, agent=sam)

    services.conversation_transfer(conversation=conversation, actor=sam, agent=noor)

    conversation.refresh_from_db()
    assert conversation.assignee == noor
    assert conversation.ticket.assignee == noor
    assert conversation.ticket.timeline.filter(
        kind=EntryKind.CHAT_EVENT, body="Sam Rivera transferred the chat to Noor Haddad."
    ).exists()


def test_transfer_to_another_team_puts_the_chat_in_its_inbox(support_team, sam):
    from tests.factories import TeamFactory

    wallets = TeamFactory(name="Wallets")
    conversation, _ = start()
    services.conversation_accept(conversation=conversation, agent=sam)

    services.conversation_transfer(conversation=conversation, actor=sam, team=wallets)

    conversation.refresh_from_db()
    assert conversation.team == wallets
    assert conversation.ticket.team == wallets
    assert conversation.assignee is None
    assert conversation.status == ConversationStatus.WAITING


def test_an_agent_cannot_be_given_a_chat_of_a_team_they_are_not_on(support_team, sam):
    outsider = AgentFactory(username="oscar")
    conversation, _ = start()

    with pytest.raises(services.AssignmentError):
        services.conversation_transfer(conversation=conversation, actor=sam, agent=outsider)


def test_a_reply_written_on_the_ticket_reaches_the_open_chat(
    support_team, sam, django_capture_on_commit_callbacks
):
    conversation, _ = start()
    services.conversation_accept(conversation=conversation, agent=sam)

    with django_capture_on_commit_callbacks(execute=True):
        entry = ticket_reply(
            ticket=conversation.ticket, author=sam, body="Try another card, please"
        )

    message = conversation.messages.get(sender=Sender.AGENT)
    assert message.body == "Try another card, please"
    assert message.entry == entry
    # On the timeline once, not twice.
    assert conversation.ticket.timeline.filter(kind=EntryKind.AGENT_REPLY).count() == 1
    assert len(mail.outbox) == 1  # and by email, in case the customer left the page


def test_a_reply_written_in_the_chat_is_not_emailed(
    support_team, sam, django_capture_on_commit_callbacks
):
    conversation, _ = start()
    services.conversation_accept(conversation=conversation, agent=sam)

    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(
            conversation=conversation, sender=Sender.AGENT, author=sam, body="Hello Ana"
        )

    assert mail.outbox == []
    ticket = conversation.ticket
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


def test_the_assignee_hears_of_a_chat_message_only_when_not_in_the_chat(support_team, sam, noor):
    conversation, _ = start()
    services.customer_message_receive(conversation=conversation, body="Hello?", client_id="c1")
    services.conversation_accept(conversation=conversation, agent=sam)
    told = Notification.objects.filter(user=sam, kind=Kind.CUSTOMER_REPLIED)

    services.customer_message_receive(
        conversation=conversation, body="Are you there?", client_id="c2"
    )
    assert told.count() == 0  # Sam reads it in the chat

    # The ticket handed to Noor while Sam still has the chat: Noor is told, Sam is not.
    ticket_update(ticket=conversation.ticket, actor=sam, assignee=noor)
    conversation.refresh_from_db()
    services.customer_message_receive(conversation=conversation, body="Hello again", client_id="c3")
    assert told.count() == 0
    assert Notification.objects.filter(user=noor, kind=Kind.CUSTOMER_REPLIED).count() == 1


def test_a_customer_writing_again_reopens_a_pending_ticket(support_team, sam):
    conversation, _ = start()
    ticket = conversation.ticket
    ticket.status = Status.PENDING
    ticket.save()

    services.customer_message_receive(conversation=conversation, body="Still broken", client_id="x")

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


# After the chat ------------------------------------------------------------------------------


def test_a_closed_chat_can_be_rated_once_closed_and_takes_no_more_messages(support_team, sam):
    conversation, _ = start()
    with pytest.raises(services.ChatError, match="closed"):
        services.conversation_rate(conversation=conversation, rating=5)

    services.conversation_close(conversation=conversation, actor=sam)
    conversation.refresh_from_db()
    services.conversation_rate(
        conversation=conversation, rating=4, comment="Quick, thanks. Card 4000 0566 5566 5556"
    )

    conversation.refresh_from_db()
    assert conversation.rating == 4
    assert "4000 0566 5566 5556" not in conversation.rating_comment
    assert conversation.ticket.timeline.filter(body__startswith="Customer rated the chat 4/5")
    with pytest.raises(services.ChatError):
        services.customer_message_receive(conversation=conversation, body="hi", client_id="z")


@pytest.mark.parametrize("rating", [0, 6, "5", True, None])
def test_a_rating_is_a_whole_number_from_1_to_5(support_team, sam, rating):
    conversation, _ = start()
    services.conversation_close(conversation=conversation, actor=sam)
    conversation.refresh_from_db()

    with pytest.raises(services.ChatError):
        services.conversation_rate(conversation=conversation, rating=rating)


def test_the_transcript_is_emailed_in_the_customers_language(
    support_team, sam, django_capture_on_commit_callbacks
):
    conversation, _ = start(language="el")
    services.message_post(conversation=conversation, sender=Sender.CUSTOMER, body="Γεια σας")
    services.message_post(
        conversation=conversation, sender=Sender.AGENT, author=sam, body="Καλησπέρα Ana"
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.transcript_request(conversation=conversation)

    (email,) = mail.outbox
    assert email.to == ["ana@example.com"]
    assert "Γεια σας" in email.body
    assert "Καλησπέρα Ana" in email.body
    assert "Sam Rivera" in email.body
    html = email.alternatives[0][0]
    assert 'lang="el"' in html


def test_receipts_only_move_forward_and_never_past_the_last_message(support_team):
    conversation, _ = start()
    for n in range(3):
        services.message_post(conversation=conversation, sender=Sender.CUSTOMER, body=f"m{n}")

    marks = services.receipts_update(conversation_id=conversation.pk, side=Sender.AGENT, read=2)
    assert marks == {"delivered": 2, "read": 2}
    marks = services.receipts_update(conversation_id=conversation.pk, side=Sender.AGENT, read=1)
    assert marks == {"delivered": 2, "read": 2}
    marks = services.receipts_update(
        conversation_id=conversation.pk, side=Sender.AGENT, delivered=99
    )
    assert marks == {"delivered": 3, "read": 2}


def test_an_empty_message_is_refused(support_team):
    conversation, _ = start()

    with pytest.raises(services.ChatError):
        services.message_post(conversation=conversation, sender=Sender.CUSTOMER, body="   ")
    assert not ChatMessage.objects.exists()


def test_a_colleague_cannot_transfer_or_close_a_chat_that_is_not_theirs(support_team, sam, noor):
    conversation, _ = start()
    services.conversation_accept(conversation=conversation, agent=sam)

    with pytest.raises(services.ChatError, match="Another agent"):
        services.conversation_transfer(conversation=conversation, actor=noor, agent=noor)
    with pytest.raises(services.ChatError, match="Another agent"):
        services.conversation_close(conversation=conversation, actor=noor)

    conversation.refresh_from_db()
    assert conversation.assignee == sam
    assert conversation.status == ConversationStatus.ACTIVE


def test_an_admin_may_close_any_chat(support_team, sam):
    from tests.factories import AdminFactory

    conversation, _ = start()
    services.conversation_accept(conversation=conversation, agent=sam)

    services.conversation_close(conversation=conversation, actor=AdminFactory(username="root"))

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED


def test_transferring_a_chat_to_its_own_team_changes_nothing(support_team, sam):
    conversation, _ = start()
    services.conversation_accept(conversation=conversation, agent=sam)

    services.conversation_transfer(conversation=conversation, actor=sam, team=support_team)

    conversation.refresh_from_db()
    assert conversation.assignee == sam


def test_a_card_number_typed_as_a_name_is_masked(support_team):
    stranger = ChatIdentity(email="x@example.com", name="4242 4242 4242 4242")

    conversation, _ = start(stranger)

    assert "4242 4242 4242 4242" not in conversation.customer.name
    assert "4242 4242 4242 4242" not in conversation.ticket.subject


def test_an_agent_who_may_not_see_the_ticket_cannot_take_a_waiting_chat_by_writing(support_team):
    conversation, _ = start()
    outsider = AgentFactory(username="oscar", team=TeamFactory(name="Wallets"))

    with pytest.raises(services.ChatError, match="no such conversation"):
        services.agent_message_post(
            conversation_id=conversation.pk, agent=outsider, body="Hi", client_id="o1"
        )

    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert not conversation.messages.filter(sender=Sender.AGENT).exists()

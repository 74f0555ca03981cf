import pytest

from chat.redaction import MASK
from tickets.models import EntryKind, Priority, Reason, Status
from tickets.services import default_team, ticket_create, ticket_note, ticket_reply, ticket_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(django_user_model):
    """An agent on the default team, where `ticket` lands."""
    user = django_user_model.objects.create_user("alex", password="pw-alex-123")
    user.teams.add(default_team())
    return user


@pytest.fixture
def ticket():
    return ticket_create(subject="Card declined", reason=Reason.PAYMENT_FAILED)


def test_a_new_ticket_lands_in_the_default_team_with_an_opening_entry(ticket, settings):
    assert ticket.team.name == settings.DEFAULT_TEAM_NAME
    assert ticket.status == Status.NEW
    assert ticket.timeline.get().kind == EntryKind.TICKET_CREATED


def test_a_card_number_in_a_note_is_masked_before_it_is_stored(ticket, agent):
    entry = ticket_note(ticket=ticket, author=agent, body="customer sent 4242 4242 4242 4242")

    entry.refresh_from_db()
    assert "4242 4242 4242 4242" not in entry.body
    assert entry.body == f"customer sent 424242{MASK * 6}4242"
    assert entry.data["card_number_masked"] is True
    assert not entry.public


def test_a_card_number_in_a_reply_is_masked_too(ticket, agent):
    entry = ticket_reply(ticket=ticket, author=agent, body="we saw 5555555555554444 fail")

    assert "5555555555554444" not in entry.body


def test_the_first_reply_records_the_first_response_and_opens_the_ticket(ticket, agent):
    first = ticket_reply(ticket=ticket, author=agent, body="Hello! Could you try another card?")
    ticket_reply(ticket=ticket, author=agent, body="Any luck?")

    ticket.refresh_from_db()
    assert ticket.first_response_at == first.created_at
    assert ticket.status == Status.OPEN
    assert first.public


def test_each_change_is_on_the_timeline_with_its_author(ticket, agent):
    ticket_update(ticket=ticket, actor=agent, status=Status.SOLVED, priority=Priority.HIGH,
                  assignee=agent)  # fmt: skip

    ticket.refresh_from_db()
    assert ticket.solved_at is not None
    changes = ticket.timeline.exclude(kind=EntryKind.TICKET_CREATED)
    assert {entry.kind for entry in changes} == {
        EntryKind.STATUS_CHANGE,
        EntryKind.PRIORITY_CHANGE,
        EntryKind.ASSIGNMENT_CHANGE,
    }
    assert all(entry.author == agent for entry in changes)


def test_an_update_that_changes_nothing_records_nothing(ticket, agent):
    ticket_update(ticket=ticket, actor=agent, status=Status.NEW, priority=Priority.NORMAL)

    assert ticket.timeline.count() == 1


def test_reopening_a_solved_ticket_clears_its_solved_time(ticket, agent):
    ticket_update(ticket=ticket, actor=agent, status=Status.SOLVED)
    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)

    ticket.refresh_from_db()
    assert ticket.solved_at is None

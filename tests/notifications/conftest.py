"""The people the notification page, socket and admin tests talk about, and in-app notices made
without going through a ticket change."""

import uuid
from collections.abc import Callable

import pytest
from django.utils import timezone

from notifications.models import Channel, Kind, Notification, Status
from notifications.receivers import ticket_facts
from tests.factories import AgentFactory, TeamFactory, UserFactory
from tickets.models import Team, Ticket


@pytest.fixture
def team() -> Team:
    return TeamFactory(name="Payments")


@pytest.fixture
def sam(team):
    """An agent on `team`, the one the notices are for."""
    return AgentFactory(
        username="sam", team=team, first_name="Sam", last_name="Rivera", email="sam@paydesk.test"
    )


@pytest.fixture
def lee(team):
    """Sam's colleague on `team`."""
    return AgentFactory(
        username="lee", team=team, first_name="Lee", last_name="Chan", email="lee@paydesk.test"
    )


@pytest.fixture
def customer_user():
    """A signed-in account that is neither staff nor on a team, like a customer's."""
    return UserFactory(username="carol")


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what a change queues on commit (delivery runs in-process), nested callbacks too."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def make_notice() -> Callable[..., Notification]:
    """An in-app "assigned to you" notice about `ticket`, delivered (shown in the bell) unless
    told otherwise."""

    def make(
        user,
        ticket: Ticket | None,
        *,
        kind: Kind = Kind.TICKET_ASSIGNED,
        channel: Channel = Channel.IN_APP,
        status: Status = Status.SENT,
        read: bool = False,
    ) -> Notification:
        return Notification.objects.create(
            key=uuid.uuid4().hex,
            kind=kind,
            channel=channel,
            user=user,
            email=user.email if channel == Channel.EMAIL else "",
            ticket=ticket,
            subject_ref=f"ticket:{ticket.pk}" if ticket else "none",
            context=ticket_facts(ticket) if ticket else {},
            status=status,
            sent_at=timezone.now() if status == Status.SENT else None,
            read_at=timezone.now() if read else None,
        )

    return make

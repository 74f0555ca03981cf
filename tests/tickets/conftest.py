"""The people the ticket tests talk about, and an API client to act as them."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from tests.factories import AdminFactory, AgentFactory, TeamFactory, UserFactory
from tickets.models import Team


@pytest.fixture
def team() -> Team:
    return TeamFactory(name="Card payments")


@pytest.fixture
def agent(team):
    """An agent on `team`."""
    return AgentFactory(username="alice", team=team)


@pytest.fixture
def outsider():
    """An agent on another team: an agent, but not one who works `team`'s tickets."""
    return AgentFactory(username="oscar", team=TeamFactory(name="Wallets"))


@pytest.fixture
def admin():
    return AdminFactory(username="root")


@pytest.fixture
def customer_user():
    """A logged-in account that is neither staff nor on a team, like a customer's."""
    return UserFactory(username="carol")


@pytest.fixture
def api_as() -> Callable[..., APIClient]:
    """An API client logged in (by session) as the given user, or anonymous with None."""

    def log_in(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return log_in

"""Customers and agents of the chat tests, and sockets opened as them through the real ASGI
application (origin checks and session authentication as in production)."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from channels.testing import WebsocketCommunicator

from chat.identity import identity_token_make
from tests.conftest import socket_opener
from tests.factories import AgentFactory
from tickets.services import default_team

SHOP = "https://shop.example"
PAYDESK = "http://127.0.0.1"
CHAT_SECRET = "chat-secret-for-tests"


@pytest.fixture(autouse=True)
def _chat_settings(settings):
    settings.CHAT_IDENTITY_SECRET = CHAT_SECRET
    settings.CHAT_ALLOWED_ORIGINS = [SHOP]


@pytest.fixture
def support_team():
    """The team new chats go to."""
    return default_team()


@pytest.fixture
def sam(support_team):
    return AgentFactory(username="sam", first_name="Sam", last_name="Rivera", team=support_team)


@pytest.fixture
def noor(support_team):
    return AgentFactory(username="noor", first_name="Noor", last_name="Haddad", team=support_team)


def token_for(email: str, **claims: Any) -> str:
    return identity_token_make(email=email, **claims)


async def receive_until(socket: WebsocketCommunicator, timeout: float = 3, **expected: Any):
    """The next message with these items, skipping the others."""
    while True:
        message = await socket.receive_json_from(timeout=timeout)
        if expected.items() <= message.items():
            return message


async def close_code(socket: WebsocketCommunicator) -> int | None:
    while True:
        message = await socket.receive_output(timeout=3)
        if message["type"] == "websocket.close":
            return message.get("code")


@pytest_asyncio.fixture
async def open_socket() -> AsyncIterator[Callable[..., Any]]:
    """open_socket(path, user=None, origin=…): a connected communicator, closed at the end."""
    async with socket_opener(default_origin=SHOP) as open_:
        yield open_


@pytest.fixture
def customer_socket(open_socket):
    """customer_socket(**hello): a widget socket that said hello; returns (socket, welcome)."""

    async def open_(origin: str = SHOP, **hello: Any):
        socket = await open_socket("/ws/chat/", origin=origin)
        assert socket.connected
        await socket.send_json_to({"type": "hello", **hello})
        welcome = await receive_until(socket, type="welcome")
        return socket, welcome

    return open_


@pytest.fixture
def agent_socket(open_socket):
    async def open_(user):
        socket = await open_socket("/ws/chat/agent/", user, origin=PAYDESK)
        assert socket.connected
        await receive_until(socket, type="hello")
        return socket

    return open_

"""A chat across two server processes behind one Redis, as in production: the customer's widget
on one uvicorn process, the agent's inbox on another, real websocket clients.

Run by `make test-services` (PostgreSQL and Redis); without them these tests fail. The servers
are real uvicorn processes on the test database, so the database is transactional: they see
only what the test committed, and the test sees what they commit.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as websocket_connect

from chat.models import Conversation
from tests.chat.conftest import CHAT_SECRET, SHOP, token_for
from tests.conftest import database_url_for_subprocess, require_real_services, session_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
UVICORN = ROOT / ".venv" / "bin" / "uvicorn"
START_TIMEOUT_S = 30
ANA = "ana@example.com"
# Long enough for a message on its way to arrive, short enough to keep the test quick.
QUIET_S = 0.5


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(server: Server) -> None:
    """SIGTERM to the server's process group, SIGKILL if it is still there after 10 s."""
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=5)


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"uvicorn on {server.port} exited:\n{server.log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/healthz", timeout=1, trust_env=False).is_success:
                return
        time.sleep(0.1)
    pytest.fail(f"uvicorn on {server.port} did not start within {START_TIMEOUT_S} s")


@pytest.fixture
def two_servers(transactional_db, settings, tmp_path) -> Iterator[tuple[Server, Server]]:
    """Two uvicorn processes as in the Procfile, on the test database and the same Redis."""
    require_real_services()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,  # the session cookies the test makes
        "CHAT_IDENTITY_SECRET": CHAT_SECRET,
        "CHAT_ALLOWED_ORIGINS": SHOP,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            port = _free_port()
            log = tmp_path / f"uvicorn-{name}.log"
            process = subprocess.Popen(
                [str(UVICORN), "helpdesk.asgi:application", "--ws-per-message-deflate", "false",
                 "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
                cwd=ROOT,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            servers.append(Server(port, process, log))
        for server in servers:
            _wait_ready(server)
        yield servers[0], servers[1]
    finally:
        for server in servers:
            _stop(server)


@dataclass
class Peer:
    """One side's websocket, and everything it has received so far."""

    socket: ClientConnection
    received: list[dict[str, Any]] = field(default_factory=list)

    def send(self, **message: Any) -> None:
        self.socket.send(json.dumps(message))

    def next(self, timeout: float = 10, **expected: Any) -> dict[str, Any]:
        """The next event with these items; the ones before it are kept in `received` too."""
        deadline = time.monotonic() + timeout
        while True:
            event = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            self.received.append(event)
            if expected.items() <= event.items():
                return event

    def nothing_more(self) -> list[dict[str, Any]]:
        """Whatever arrives within QUIET_S (nothing, when all is well)."""
        more = []
        with contextlib.suppress(TimeoutError):
            while True:
                more.append(json.loads(self.socket.recv(timeout=QUIET_S)))
        self.received.extend(more)
        return more

    def messages(self) -> list[dict[str, Any]]:
        return [event["message"] for event in self.received if event["type"] == "message"]

    def wait_for_messages(self, client_ids: set[str], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not client_ids <= {message["client_id"] for message in self.messages()}:
            self.next(timeout=deadline - time.monotonic(), type="message")


@contextlib.contextmanager
def customer(server: Server, **hello: Any) -> Iterator[tuple[Peer, dict[str, Any]]]:
    with websocket_connect(server.ws_url + "/ws/chat/", origin=SHOP, open_timeout=10) as socket:
        peer = Peer(socket)
        peer.send(type="hello", token=token_for(ANA, name="Ana Lopez"), **hello)
        yield peer, peer.next(type="welcome")


@contextlib.contextmanager
def agent(server: Server, user) -> Iterator[Peer]:
    with websocket_connect(
        server.ws_url + "/ws/chat/agent/",
        origin=server.url,
        additional_headers={"Cookie": session_cookie(user)},
        open_timeout=10,
    ) as socket:
        peer = Peer(socket)
        peer.next(type="hello")
        yield peer


def assert_each_once_in_order(peer: Peer, last_seq: int) -> None:
    """Every message of the conversation exactly once, and each sender's in the order sent."""
    messages = peer.messages()
    assert sorted(m["seq"] for m in messages) == list(range(1, last_seq + 1))
    for sender in ("customer", "agent"):
        seqs = [m["seq"] for m in messages if m["sender"] == sender]
        assert seqs == sorted(seqs)
        ids = [m["client_id"] for m in messages if m["sender"] == sender]
        assert ids == sorted(ids, key=lambda client_id: int(client_id.split("-")[1]))


def test_a_customer_and_an_agent_on_different_processes_chat(two_servers, sam):
    a, b = two_servers
    with agent(b, sam) as sam_on_b, customer(a) as (ana_on_a, _):
        ana_on_a.send(type="message", client_id="c-1", body="My card was declined")
        first = ana_on_a.next(type="ack", client_id="c-1")
        conversation_id = first["conversation"]
        # The team's inbox on the other process hears of the new conversation.
        assert sam_on_b.next(type="inbox")["conversation"] == conversation_id

        sam_on_b.send(type="open", conversation=conversation_id)
        assert sam_on_b.next(type="conversation")["conversation"]["customer"]["email"] == ANA
        sam_on_b.send(type="message", conversation=conversation_id, client_id="s-1", body="Hi Ana")
        answer = sam_on_b.next(type="ack", client_id="s-1")
        ana_on_a.wait_for_messages({"s-1"})

        # Typing and receipts cross the processes, both ways.
        sam_on_b.send(type="typing", conversation=conversation_id, state=True)
        typing = ana_on_a.next(type="typing")
        assert (typing["side"], typing["name"], typing["state"]) == ("agent", "Sam Rivera", True)
        ana_on_a.send(type="typing", state=True)
        assert sam_on_b.next(type="typing")["side"] == "customer"
        ana_on_a.send(type="receipt", delivered=answer["seq"], read=answer["seq"])
        receipt = sam_on_b.next(type="receipt")
        assert (receipt["side"], receipt["delivered"], receipt["read"]) == (
            "customer", answer["seq"], answer["seq"],
        )  # fmt: skip
        sam_on_b.send(type="receipt", conversation=conversation_id, read=first["seq"])
        receipt = ana_on_a.next(type="receipt")
        assert (receipt["side"], receipt["read"]) == ("agent", first["seq"])

        # Both write at once, each on their own process.
        for n in range(2, 7):
            ana_on_a.send(type="message", client_id=f"c-{n}", body=f"Customer {n}")
            sam_on_b.send(
                type="message", conversation=conversation_id, client_id=f"s-{n}", body=f"Agent {n}"
            )
        everything = {f"{side}-{n}" for side in "cs" for n in range(1, 7)}
        ana_on_a.wait_for_messages(everything)
        sam_on_b.wait_for_messages(everything)
        ana_on_a.nothing_more()
        sam_on_b.nothing_more()

    last_seq = Conversation.objects.get(pk=conversation_id).last_seq
    assert_each_once_in_order(ana_on_a, last_seq)
    assert_each_once_in_order(sam_on_b, last_seq)
    assert {m["body"] for m in ana_on_a.messages()} == {m["body"] for m in sam_on_b.messages()}


def test_a_customer_who_reconnects_to_the_other_process_gets_exactly_what_they_missed(
    two_servers, sam
):
    a, b = two_servers
    with agent(b, sam) as sam_on_b:
        with customer(a) as (ana_on_a, _):
            ana_on_a.send(type="message", client_id="c-1", body="Is anyone there?")
            conversation_id = ana_on_a.next(type="ack", client_id="c-1")["conversation"]
            sam_on_b.send(type="open", conversation=conversation_id)
            sam_on_b.send(
                type="message", conversation=conversation_id, client_id="s-1", body="Yes, Sam here"
            )
            ana_on_a.wait_for_messages({"s-1"})
            held = max(m["seq"] for m in ana_on_a.messages())
        # Ana's page is gone; Sam keeps writing.
        missed = []
        for n in range(2, 5):
            sam_on_b.send(
                type="message", conversation=conversation_id, client_id=f"s-{n}", body=f"Step {n}"
            )
            missed.append(sam_on_b.next(type="ack", client_id=f"s-{n}")["seq"])

        with customer(b, conversation=conversation_id, after=held) as (ana_on_b, welcome):
            assert welcome["conversation"]["id"] == conversation_id
            ana_on_b.wait_for_messages({"s-2", "s-3", "s-4"})
            ana_on_b.nothing_more()

    resumed = ana_on_b.messages()
    assert [m["seq"] for m in resumed] == missed == [held + 1, held + 2, held + 3]
    assert [m["body"] for m in resumed] == ["Step 2", "Step 3", "Step 4"]

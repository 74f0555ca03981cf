"""A real ASGI server for end-to-end tests (a pytest plugin; tests/conftest.py registers it).

`asgi_live_server` runs uvicorn with `helpdesk.asgi:application` (HTTP and websockets, as in
production) in a thread of the test process, on a free port of 127.0.0.1, against the test
database. Like pytest-django's `live_server` it needs `transactional_db`: the server's threads
use their own database connections, so they see only what is committed. Being in the test
process, the server shares its settings, the in-memory channel layer and Celery's eager mode.

Two things to know when a test drives the server from an event loop (Playwright's sync API
runs one in the test's thread): make database calls before entering it or with
DJANGO_ALLOW_ASYNC_UNSAFE, and call services that announce live updates from another thread:
`async_to_sync` refuses to run in a thread with a running loop, so `tickets.live` would only log
that it could not announce the change.

    def test_it_answers(asgi_live_server):
        response = httpx.get(asgi_live_server.url + "/healthz")
        with websockets.sync.client.connect(
            asgi_live_server.ws_url + "/ws/desk/", origin=asgi_live_server.url, …
        ) as socket:
            …

A websocket client must send an Origin the server allows (`.url` is one).
"""

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class AsgiLiveServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """ws://127.0.0.1:PORT, without a trailing slash."""
        return f"ws://{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.url


@pytest.fixture
def asgi_live_server(transactional_db) -> Iterator[AsgiLiveServer]:
    host = "127.0.0.1"
    # The server gets the socket bound here: no window in which another process takes the port.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        "helpdesk.asgi:application",
        lifespan="off",
        ws="auto",  # as in production (no --ws): the websockets package, sans-I/O
        log_config=None,  # leave the test run's logging (and caplog) alone
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=STOP_TIMEOUT_S / 2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="asgi-live-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            pytest.fail(f"the ASGI server did not start within {START_TIMEOUT_S} s")
        time.sleep(0.02)

    yield AsgiLiveServer(host=host, port=port)

    # Open websockets are closed by the server (1012); then the database is flushed.
    server.should_exit = True
    thread.join(STOP_TIMEOUT_S)
    if thread.is_alive():
        server.force_exit = True
        thread.join(STOP_TIMEOUT_S)
    listener.close()

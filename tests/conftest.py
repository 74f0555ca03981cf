"""Fixtures shared by the whole suite: signed provider deliveries, Celery in-process or in a
real worker, and the desk socket."""

import asyncio
import contextlib
import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import stripe
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from helpdesk.celery import app as celery_app

pytest_plugins = ["tests.asgi_server"]
PAYLOADS = Path(__file__).resolve().parents[2] / "shared" / "payloads"
STRIPE_SECRET = "whsec_test_paydesk_0123456789"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory) -> None:
    """On SQLite, test in a file rather than in memory: a shared in-memory database locks whole
    tables, so a real server's threads (end-to-end and browser tests) would fail each other with
    "database table is locked"; a file in WAL mode lets readers and a writer work side by side,
    as in the demo."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        folder = tmp_path_factory.mktemp("database")
        database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """Each test builds its own channel layer. A Redis layer keeps locks bound to the event loop
    that used them; a consumer still receiving when an earlier test's loop or server stopped
    would leave the next test a lock of a dead loop ("bound to a different event loop")."""
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def _provider_settings(settings):
    settings.STRIPE_WEBHOOK_SECRETS = [STRIPE_SECRET]
    settings.PAYPAL_WEBHOOK_ID = "WH-TEST-PAYDESK"


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings):
    """Pages link static files; render them without a collectstatic run."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Tasks run in the test process unless a test talks to a real worker."""
    if request.node.get_closest_marker("services"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def load_stripe_event(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / "stripe" / f"{name}.json").read_bytes())


def stripe_event(
    name: str, *, event_id: str, created: int | None = None, **object_changes: Any
) -> dict[str, Any]:
    """A recorded Stripe event with its own id (the samples share one zeroed id)."""
    event = copy.deepcopy(load_stripe_event(name))
    event["id"] = event_id
    if created is not None:
        event["created"] = created
    event["data"]["object"].update(object_changes)
    return event


def stripe_object_event(
    obj_name: str, *, event_type: str, event_id: str, created: int, **changes: Any
) -> dict[str, Any]:
    """A Stripe event for a recorded object (refund, dispute, fraud warning) in the standard
    envelope, for the types no recorded event exists."""
    envelope = copy.deepcopy(load_stripe_event("charge.refund.updated"))
    obj = json.loads((PAYLOADS / "stripe" / "objects" / f"{obj_name}.json").read_bytes())
    obj.update(changes)
    envelope.update(id=event_id, type=event_type, created=created)
    envelope["data"] = {"object": obj}
    return envelope


def stripe_headers(body: bytes, *, secret: str = STRIPE_SECRET, timestamp: int | None = None):
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp or int(time.time())
    )
    return {"HTTP_STRIPE_SIGNATURE": header}


@pytest.fixture
def post_stripe(client, django_capture_on_commit_callbacks) -> Callable[..., Any]:
    """POST a Stripe event (dict or raw bytes) to the real endpoint, signed, and run what the
    request queued on commit (processing runs in-process)."""

    def post(event: dict[str, Any] | bytes, **sign_kwargs: Any):
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/webhooks/stripe/",
                data=body,
                content_type="application/json",
                **stripe_headers(body, **sign_kwargs),
            )

    return post


def require_real_services() -> None:
    """Tests marked `services` run against PostgreSQL and Redis; without them they fail."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    problems = []
    if "postgresql" not in engine:
        problems.append("DATABASE_URL must point at PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL must be set")
    if problems:
        pytest.fail("; ".join(problems) + " (run `make test-services`)")


def database_url_for_subprocess() -> str:
    """DATABASE_URL of the test database pytest-django made, for a worker or server process."""
    from django.db import connection

    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


ROOT = Path(__file__).resolve().parents[1]


class CeleryProcess:
    """One `celery -A helpdesk …` subprocess (a worker or beat) on the test database and the
    Redis broker. Its output goes to a log file, shown when it fails to start."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start(self) -> "CeleryProcess":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "helpdesk", *self.args],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL this process, and nothing else: it gets no chance to finish or clean up."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


class RealCelery:
    """Real Celery workers and beat for one test, stopped when it ends. Each start takes extra
    environment (say a short CELERY_VISIBILITY_TIMEOUT_S, or EMAIL_* for an SMTP sink)."""

    def __init__(self, *, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.started: list[CeleryProcess] = []

    def _process(self, name: str, args: list[str], extra_env: dict[str, str]) -> CeleryProcess:
        log = self.log_dir / f"{len(self.started)}-{name}.log"
        process = CeleryProcess(args, env={**self.env, **extra_env}, log=log)
        self.started.append(process)
        return process.start()

    def start_worker(
        self, *, pool: str = "solo", concurrency: int = 1, **extra_env: str
    ) -> CeleryProcess:
        """A worker, once it answers a ping. `solo` runs tasks in the worker's own process, so
        killing that one pid kills the task it runs."""
        hostname = f"test-{os.getpid()}-{len(self.started)}"
        worker = self._process(
            "worker",
            ["worker", "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--hostname", f"{hostname}@%h"],
            extra_env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = celery_app.control.ping(timeout=0.5)
            if any(f"{hostname}@" in name for reply in replies for name in reply):
                return worker
            if worker.process.poll() is not None:
                pytest.fail(f"celery worker exited:\n{worker.output()}")
        worker.kill()
        pytest.fail(f"celery worker did not answer a ping within 60 s:\n{worker.output()}")

    def start_beat(self, **extra_env: str) -> CeleryProcess:
        """Beat on django-celery-beat's database scheduler, as production runs it."""
        return self._process(
            "beat",
            ["beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
             "--loglevel", "INFO"],
            extra_env,
        )  # fmt: skip

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


@pytest.fixture
def real_celery(transactional_db, settings, tmp_path) -> Iterator[RealCelery]:
    """Start real Celery processes sharing the test database; tasks the test queues go to
    them through Redis."""
    require_real_services()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DB_CONN_MAX_AGE": "0",
    }
    celery_app.control.purge()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery = RealCelery(env=env, log_dir=tmp_path)
    yield celery
    celery_app.conf.task_always_eager = previous
    celery.stop_all()


@pytest.fixture
def celery_worker_process(real_celery) -> CeleryProcess:
    """A real Celery worker on the Redis broker, sharing the test database."""
    return real_celery.start_worker()


def wait_until(predicate: Callable[[], Any], *, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


# The desk socket ---------------------------------------------------------------------------

DESK = "/ws/desk/"
ORIGIN = "http://127.0.0.1"


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@contextlib.asynccontextmanager
async def socket_opener(*, default_origin: str) -> AsyncIterator[Callable[..., Any]]:
    """open_(path, user=None, origin=…): a communicator on Paydesk's ASGI application, connected
    as `user` (anonymous with None); every socket it opened is closed at the end."""
    from helpdesk.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def open_(path: str, user=None, *, origin: str | None = default_origin):
        headers = [(b"origin", origin.encode())] if origin else []
        if user is not None:
            cookie = await database_sync_to_async(session_cookie)(user)
            headers.append((b"cookie", cookie.encode()))
        socket = WebsocketCommunicator(application, path, headers=headers)
        opened.append(socket)
        socket.connected, _ = await socket.connect()
        return socket

    try:
        yield open_
    finally:
        for socket in opened:
            # A socket whose application already stopped (a test that timed out waiting on
            # it) cannot be disconnected; the rest of the teardown (the database flush) must
            # still run.
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await socket.disconnect()


@pytest_asyncio.fixture
async def open_desk() -> AsyncIterator[Callable[..., Any]]:
    """open_desk(user=None, origin=…): the desk socket as `user`."""
    async with socket_opener(default_origin=ORIGIN) as open_:
        yield partial(open_, DESK)

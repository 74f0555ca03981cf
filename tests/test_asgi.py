"""The project's ASGI handler: plain HTTP served from threads kept across requests."""

import asyncio
import json
import threading

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.core.signals import request_finished

from helpdesk.asgi import application
from helpdesk.handlers import IDLE_REQUEST_THREADS, SyncViewsASGIHandler
from payments.models import WebhookEvent
from tests.conftest import stripe_event, stripe_headers

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


HOST = [(b"host", b"testserver")]


def get(path: str) -> HttpCommunicator:
    return HttpCommunicator(application, "GET", path, headers=HOST)


def post_stripe(event: dict) -> HttpCommunicator:
    body = json.dumps(event).encode()
    headers = [*HOST, (b"content-type", b"application/json")]
    headers += [
        (name.removeprefix("HTTP_").replace("_", "-").lower().encode(), value.encode())
        for name, value in stripe_headers(body).items()
    ]
    return HttpCommunicator(application, "POST", "/webhooks/stripe/", body=body, headers=headers)


@database_sync_to_async
def stored(event_id_prefix: str) -> int:
    """Stored events whose id starts so (read, like a consumer would, closing its connection)."""
    return WebhookEvent.objects.filter(event_id__startswith=event_id_prefix).count()


async def answer(communicator: HttpCommunicator) -> dict:
    """The response, once the request is over (its connections closed, its thread free)."""
    response = await communicator.get_response()
    await communicator.wait(timeout=5)
    return response


@pytest.fixture
def finishing_threads():
    """The thread each request finished on (where Django closes its database connections)."""
    threads: list[int] = []

    def record(**kwargs) -> None:
        threads.append(threading.get_ident())

    request_finished.connect(record)
    yield threads
    request_finished.disconnect(record)


async def test_a_webhook_over_asgi_is_stored_and_answered():
    event = stripe_event("payment_intent.payment_failed", event_id="evt_asgi_1")

    response = await answer(post_stripe(event))

    assert response["status"] == 200
    assert json.loads(response["body"]) == {
        "received": True,
        "event": "evt_asgi_1",
        "duplicate": False,
    }
    assert await stored("evt_asgi_1") == 1


async def test_requests_one_after_another_reuse_one_thread(finishing_threads):
    for _ in range(5):
        response = await answer(get("/healthz"))
        assert response["status"] == 200

    assert len(finishing_threads) == 5
    assert len(set(finishing_threads)) == 1


async def test_requests_at_once_each_run_on_a_thread_of_their_own(finishing_threads):
    responses = await asyncio.gather(*(answer(get("/healthz")) for _ in range(4)))

    assert [r["status"] for r in responses] == [200] * 4
    assert len(set(finishing_threads)) == 4


async def test_a_burst_leaves_no_more_threads_than_are_kept(finishing_threads):
    handler = SyncViewsASGIHandler()
    burst = IDLE_REQUEST_THREADS + 8

    responses = await asyncio.gather(
        *(answer(HttpCommunicator(handler, "GET", "/healthz", headers=HOST)) for _ in range(burst))
    )

    assert [r["status"] for r in responses] == [200] * burst
    served_on = set(finishing_threads)
    assert len(served_on) > IDLE_REQUEST_THREADS

    def still_running() -> int:
        return sum(thread.ident in served_on for thread in threading.enumerate())

    for _ in range(100):
        if still_running() <= IDLE_REQUEST_THREADS:
            break
        await asyncio.sleep(0.05)
    assert still_running() == IDLE_REQUEST_THREADS


async def test_a_page_that_fails_answers_500_and_the_next_request_is_served(monkeypatch):
    from payments import views

    def broken(*args, **kwargs):
        raise RuntimeError("the view broke")

    monkeypatch.setattr(views, "webhook_event_store", broken)
    event = stripe_event("payment_intent.payment_failed", event_id="evt_asgi_broken")
    failed = await answer(post_stripe(event))
    monkeypatch.undo()
    served = await answer(get("/healthz"))

    assert failed["status"] == 500
    assert served["status"] == 200

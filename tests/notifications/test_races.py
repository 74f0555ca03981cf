"""Two workers at once, on the real PostgreSQL: the key and the claim keep a notification single."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection

from notifications.models import Channel, Kind, Notification, Status
from notifications.services import notification_deliver, notify
from tests.conftest import require_real_services

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _at_once(work, times: int = 2) -> list:
    """Run `work` in `times` threads released together, each with its own connection."""
    barrier = threading.Barrier(times)
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as error:  # asserted on below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def _notice() -> Notification | None:
    return notify(
        kind=Kind.AGENT_REPLIED, channel=Channel.EMAIL, subject_ref="entry:7", occasion="",
        email="ana@example.com", context={"body": "Try again", "agent": "Sam"},
    )  # fmt: skip


def test_two_workers_noticing_the_same_occasion_write_one_notification():
    require_real_services()

    made = _at_once(_notice, times=4)

    assert sum(1 for notification in made if notification is not None) == 1
    assert Notification.objects.count() == 1


def test_two_workers_delivering_one_notification_at_once_send_it_once(monkeypatch):
    require_real_services()
    notification = _notice()
    real_send = mail.EmailMessage.send

    def slow_send(self, *args, **kwargs):
        time.sleep(0.3)  # the second worker arrives while the first is talking to the server
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMessage, "send", slow_send)

    outcomes = _at_once(lambda: notification_deliver(notification.pk), times=3)

    assert len(mail.outbox) == 1
    assert sorted(outcome.status for outcome in outcomes).count(Status.SENT) == 1
    waiting = [outcome for outcome in outcomes if outcome.status != Status.SENT]
    # The others were told to come back after the lease, or found it sent already.
    assert all(o.status in (Status.SENDING, Status.SENT) for o in waiting)
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.attempts == 1

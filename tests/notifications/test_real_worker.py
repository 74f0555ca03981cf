"""A real Celery worker on Redis, killed with SIGKILL in the middle of an SMTP send, and the
emails that reach a real SMTP server (tests/smtp_sink.py) afterwards.

What these tests prove, and what they cannot: the kill lands while the worker waits for the
server's answer to RCPT TO, before the server has the message. Killed there, the worker has
sent nothing, and the claim's lease and the broker's redelivery make the email go out once.
SMTP has no idempotency key, so one window stays open: a worker killed after the server accepted
the message (its answer to the final dot) and before the row is marked sent sends it again when
the task comes back. The copy carries the same Message-ID (notifications/emails.py), which lets
mail systems and mail clients drop it; nothing on Paydesk's side can tell the two apart.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from notifications import emails
from notifications.models import Channel, Kind, Notification, Status
from notifications.services import notify
from tests.conftest import wait_until
from tests.factories import TicketFactory
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.services

EMAILS = 20
KILLED = 8  # the eighth email is the one in the middle of its send when the worker dies
VISIBILITY_TIMEOUT_S = 10
LEASE_S = 5


def _worker_env(sink: SmtpSink) -> dict[str, str]:
    """Short enough to see a redelivery in seconds: the broker gives an unacknowledged task to
    another worker after VISIBILITY_TIMEOUT_S, and a claim counts as dead after LEASE_S."""
    return {
        **sink.email_env(),
        "CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "NOTIFICATION_SEND_LEASE_S": str(LEASE_S),
    }


def _agent_replies(count: int) -> list[Notification]:
    """One agent reply emailed to each of `count` customers, queued as the reply would be."""
    made = []
    for n in range(count):
        ticket = TicketFactory()
        notification = notify(
            kind=Kind.AGENT_REPLIED, channel=Channel.EMAIL, subject_ref=f"entry:{n}",
            customer=ticket.customer, email=ticket.customer.email, ticket=ticket,
            context={"body": f"Reply number {n}.", "agent": "Sam Rivera"},
        )  # fmt: skip
        made.append(notification)
    return made


def _held_notification(sink: SmtpSink) -> Notification:
    """The notification whose send the sink holds, once its row says it is being sent."""
    (recipient,) = wait_until(sink.stalled, timeout=60).values()
    wait_until(lambda: Notification.objects.get(email=recipient).status == Status.SENDING)
    return Notification.objects.get(email=recipient)


def _all_sent() -> bool:
    return Notification.objects.filter(status=Status.SENT).count() == EMAILS


def _assert_each_email_arrived_once(sink: SmtpSink, notifications: list[Notification]) -> None:
    expected = {emails.build(n).extra_headers["Message-ID"]: n.email for n in notifications}
    arrived = sink.message_ids()
    assert sorted(arrived.elements()) == sorted(expected)  # none missing, none twice
    assert {m.message_id: m.to for m in sink.received()} == {
        message_id: (address,) for message_id, address in expected.items()
    }


def _pool_processes(worker_pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{worker_pid}/task").iterdir():
        children.extend(int(pid) for pid in (task / "children").read_text().split())
    return children


def test_a_worker_killed_during_a_send_and_restarted_delivers_each_email_exactly_once(
    real_celery,
):
    """The whole worker dies (its only process: the solo pool runs tasks in it). The task it held
    is unacknowledged; a worker starting after the visibility timeout gets it back from Redis,
    finds the claim's lease over, and sends. (Started sooner, it would get the task back at its
    next restore scan, or the notification sweep would queue it once the lease is over.)"""
    with SmtpSink(stall={KILLED}) as sink:
        worker = real_celery.start_worker(**_worker_env(sink))
        notifications = _agent_replies(EMAILS)

        held = _held_notification(sink)
        assert Notification.objects.filter(status=Status.SENT).count() == KILLED - 1
        killed_at = time.monotonic()
        worker.kill()
        wait_until(lambda: not sink.stalled(), timeout=10)  # the sink saw the client vanish
        assert len(sink.received()) == KILLED - 1
        assert Notification.objects.get(pk=held.pk).status == Status.SENDING

        time.sleep(max(0.0, killed_at + VISIBILITY_TIMEOUT_S + 1 - time.monotonic()))
        real_celery.start_worker(**_worker_env(sink))
        wait_until(_all_sent, timeout=60)

    _assert_each_email_arrived_once(sink, notifications)
    attempts = dict(Notification.objects.values_list("pk", "attempts"))
    assert attempts.pop(held.pk) == 2
    assert set(attempts.values()) == {1}


def test_a_pool_process_killed_during_a_send_is_replaced_and_the_email_goes_out_once(
    real_celery,
):
    """Only the pool process running the task dies. The worker rejects the task back to the
    queue at once (reject_on_worker_lost); the copy finds the dead process's claim still
    leased, waits for the lease to end (a retry with a countdown), then sends."""
    with SmtpSink(stall={KILLED}) as sink:
        worker = real_celery.start_worker(pool="prefork", concurrency=1, **_worker_env(sink))
        notifications = _agent_replies(EMAILS)

        held = _held_notification(sink)
        (pool_process,) = _pool_processes(worker.pid)
        os.kill(pool_process, signal.SIGKILL)
        wait_until(lambda: not sink.stalled(), timeout=10)
        wait_until(_all_sent, timeout=60)

    _assert_each_email_arrived_once(sink, notifications)
    first_claim = held.claimed_at
    held.refresh_from_db()
    assert held.attempts == 2
    assert (held.claimed_at - first_claim).total_seconds() >= LEASE_S
    assert "WorkerLostError" in worker.output()

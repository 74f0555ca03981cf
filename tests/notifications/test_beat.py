"""Real Celery beat on django-celery-beat's database scheduler, with a real worker on Redis: the
schedules notifications/schedules.py writes are there, and beat runs them."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from notifications.models import Channel, Kind, Notification, Status
from notifications.schedules import default_schedules, schedules_ensure
from tests.conftest import wait_until
from tests.factories import AgentFactory, TicketFactory
from tickets.models import Status as TicketStatus

pytestmark = pytest.mark.services


def _assert_the_default_schedules_are_written() -> None:
    tasks = {task.name: task for task in PeriodicTask.objects.select_related("interval", "crontab")}
    for entry in default_schedules():
        task = tasks[entry["name"]]
        assert (task.task, task.enabled) == (entry["task"], True), entry["name"]
        if "every_s" in entry:
            assert (task.interval.every, task.interval.period) == (
                entry["every_s"],
                IntervalSchedule.SECONDS,
            ), entry["name"]
        else:
            assert (task.crontab.minute, task.crontab.hour) == (
                entry["crontab"]["minute"],
                entry["crontab"]["hour"],
            ), entry["name"]


def test_beat_sends_the_assignee_a_reminder_of_a_ticket_near_breach_within_a_minute(
    real_celery, settings
):
    # migrate wrote the schedules (post_migrate); a transactional test before this one may
    # have flushed them.
    schedules_ensure()
    _assert_the_default_schedules_are_written()
    agent = AgentFactory()
    ticket = TicketFactory(
        team=agent.teams.get(),
        assignee=agent,
        status=TicketStatus.OPEN,
        due_at=timezone.now() + timedelta(minutes=30),
    )
    assert ticket.due_at <= timezone.now() + timedelta(minutes=settings.SLA_WARNING_MINUTES)
    real_celery.start_worker()

    # DatabaseScheduler first runs an interval task one interval after it starts (30 s for
    # the SLA scan), so the reminder comes in about 30 s.
    real_celery.start_beat()
    beat_started = time.monotonic()
    reminder = wait_until(
        lambda: Notification.objects.filter(
            kind=Kind.SLA_WARNING, user=agent, ticket=ticket, status=Status.SENT
        ).first(),
        timeout=60,
        interval=0.5,
    )

    assert time.monotonic() - beat_started < 60
    assert reminder.channel == Channel.IN_APP
    # The occasion is the target and its due time: a later due time warns again.
    assert reminder.occasion.endswith(":" + ticket.due_at.isoformat())
    assert reminder.context["due_at"] == ticket.due_at.isoformat()
    # One notice however often the scan ran meanwhile: the agent wants this kind in the app only.
    assert list(Notification.objects.values_list("kind", "user")) == [(Kind.SLA_WARNING, agent.pk)]

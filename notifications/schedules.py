"""The periodic work beat runs, written to django-celery-beat's tables where admins see and change
it (admin › Periodic tasks). Each schedule is created once, after migrations, if it is missing: a
schedule an admin changed is never put back."""

import json
from typing import Any

from django.conf import settings
from django.db.models.signals import post_migrate
from django.dispatch import receiver


def default_schedules() -> list[dict[str, Any]]:
    return [
        {
            "name": "Queue unprocessed webhook events",
            "task": "payments.tasks.sweep_webhook_events",
            "every_s": settings.WEBHOOK_SWEEP_INTERVAL_S,
        },
        {
            "name": "Queue undelivered notifications",
            "task": "notifications.tasks.sweep_notifications",
            "every_s": settings.NOTIFICATION_SWEEP_INTERVAL_S,
        },
        {
            "name": "SLA reminders and breaches",
            "task": "notifications.tasks.scan_sla",
            "every_s": settings.SLA_SCAN_INTERVAL_S,
        },
        {
            "name": "Dispute deadline reminders",
            "task": "notifications.tasks.scan_dispute_deadlines",
            "every_s": settings.DISPUTE_SCAN_INTERVAL_S,
        },
        {
            "name": "Dashboard rollups of the last days",
            "task": "dashboards.tasks.rollup_dashboard",
            "crontab": {"minute": "15", "hour": "0"},
        },
        {
            "name": "Daily digest to admins",
            "task": "notifications.tasks.send_daily_digest",
            "crontab": {"minute": "0", "hour": str(settings.DIGEST_HOUR)},
        },
    ]


def schedules_ensure() -> list[str]:
    """Create the schedules that are missing; return the names of those it created."""
    from django_celery_beat.models import (
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
    )

    created = []
    for entry in default_schedules():
        if PeriodicTask.objects.filter(name=entry["name"]).exists():
            continue
        if "crontab" in entry:
            crontab, _ = CrontabSchedule.objects.get_or_create(
                **entry["crontab"], day_of_week="*", day_of_month="*", month_of_year="*",
                timezone=settings.TIME_ZONE,
            )  # fmt: skip
            schedule = {"crontab": crontab}
        else:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=entry["every_s"], period=IntervalSchedule.SECONDS
            )
            schedule = {"interval": interval}
        PeriodicTask.objects.create(
            name=entry["name"], task=entry["task"], args=json.dumps([]), **schedule
        )
        created.append(entry["name"])
    return created


@receiver(post_migrate)
def _schedules_after_migrate(sender: Any, **kwargs: Any) -> None:
    if sender.name == "notifications":
        schedules_ensure()

from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboards.rollups import NIGHTLY_DAYS, rollup_days
from tickets.models import Ticket


class Command(BaseCommand):
    help = (
        "Roll up the dashboard's figures of finished days, so that long periods read the "
        "rollups instead of every ticket. Without options: the last "
        f"{NIGHTLY_DAYS} days, as beat does every night."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", type=date.fromisoformat, help="first day (YYYY-MM-DD) to roll up"
        )
        parser.add_argument(
            "--all", action="store_true", help="every day since the first ticket was opened"
        )

    def handle(self, *args, **options):
        with timezone.override(settings.TIME_ZONE):
            yesterday = timezone.localdate() - timedelta(days=1)
            first = options["since"] or yesterday - timedelta(days=NIGHTLY_DAYS - 1)
            oldest = Ticket.objects.order_by("created_at").values_list("created_at", flat=True)
            if options["all"] and oldest:
                first = timezone.localdate(oldest[0])
        if first > yesterday:
            raise CommandError(f"{first} is not over yet; the last finished day is {yesterday}.")
        done = rollup_days(first, yesterday)
        self.stdout.write(f"Rolled up {done} days, {first} to {yesterday} ({settings.TIME_ZONE}).")

"""Process again the stored webhook events that match the filters (by default: every event
that is pending or failed)."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from payments.models import EventOutcome, Provider, WebhookEvent
from payments.services import webhook_event_process


class Command(BaseCommand):
    help = "Process stored webhook events again: pending and failed ones unless told otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", choices=Provider.values)
        parser.add_argument("--type", dest="event_type", help="event type, e.g. charge.failed")
        parser.add_argument("--since", help="received at or after (ISO 8601)")
        parser.add_argument("--until", help="received before (ISO 8601)")
        parser.add_argument(
            "--outcome",
            action="append",
            choices=EventOutcome.values,
            help="outcome to select (repeatable); default pending and failed",
        )
        parser.add_argument("--dry-run", action="store_true", help="only count the events")

    def handle(self, *args, **options) -> None:
        outcomes = options["outcome"] or [EventOutcome.PENDING, EventOutcome.FAILED]
        events = WebhookEvent.objects.filter(outcome__in=outcomes).order_by("received_at")
        if options["provider"]:
            events = events.filter(provider=options["provider"])
        if options["event_type"]:
            events = events.filter(event_type=options["event_type"])
        if options["since"]:
            events = events.filter(received_at__gte=_when(options["since"]))
        if options["until"]:
            events = events.filter(received_at__lt=_when(options["until"]))

        pks = list(events.values_list("pk", flat=True))
        if options["dry_run"]:
            self.stdout.write(f"{len(pks)} events would be processed")
            return
        # Processed and ignored events are final; selecting them again means "do it over".
        WebhookEvent.objects.filter(pk__in=pks).update(outcome=EventOutcome.PENDING)
        results = dict.fromkeys(EventOutcome.values, 0)
        for pk in tqdm(pks, desc="events", unit="event", file=self.stderr, disable=not pks):
            try:
                results[webhook_event_process(event_pk=pk)] += 1
            except Exception:
                results[EventOutcome.FAILED] += 1
        summary = ", ".join(f"{count} {name}" for name, count in results.items() if count)
        self.stdout.write(f"{len(pks)} events: {summary or 'nothing to do'}")


def _when(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"not an ISO 8601 time: {value}")
    return parsed

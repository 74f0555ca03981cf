"""Daily rollups of the dashboard's figures (dashboards/rollups.py keeps them).

A row counts what happened on its `day`, a whole day of the reporting time zone, for one value
of each of its dimensions; each column names the moment it counts by (a ticket opened that day,
solved that day, a target due that day…). A `month` row, on the month's first day, sums the
month's day rows, so that a year reads a dozen rows where it would read 365. Finished days are
summed from here, today is always counted live (dashboards/metrics.py). `RolledUpDay` says
which days are here, and in which zone.
"""

from django.conf import settings
from django.db import models

from tickets.models import Team


class RolledUpDay(models.Model):
    day = models.DateField(primary_key=True)
    time_zone = models.CharField(max_length=64)
    rolled_up_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} ({self.time_zone})"


class DailyRow(models.Model):
    day = models.DateField()
    month = models.BooleanField(default=False)

    # The columns a row is counted for, and the columns it counts (summed into month rows).
    DIMENSIONS: tuple[str, ...] = ()
    COUNTS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.day}"


class DailyTickets(DailyRow):
    """Tickets, SLA targets, surveys and chats of a day, per team, reason and channel (for a
    chat: the chat's team and its ticket's reason and channel)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20)
    channel = models.CharField(max_length=10)
    opened = models.PositiveIntegerField(default=0)
    solved = models.PositiveIntegerField(default=0)
    # SLA targets due that day, decided (met or recorded as breached), and met.
    first_response_decided = models.PositiveIntegerField(default=0)
    first_response_met = models.PositiveIntegerField(default=0)
    resolution_decided = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    # "Request solved" surveys sent that day, and the survey ratings given that day.
    surveys = models.PositiveIntegerField(default=0)
    ratings = models.PositiveIntegerField(default=0)
    happy_ratings = models.PositiveIntegerField(default=0)
    rating_total = models.PositiveIntegerField(default=0)
    # Chats closed that day, and chat ratings given that day.
    chats_closed = models.PositiveIntegerField(default=0)
    chat_ratings = models.PositiveIntegerField(default=0)
    chat_happy_ratings = models.PositiveIntegerField(default=0)
    chat_rating_total = models.PositiveIntegerField(default=0)

    DIMENSIONS = ("team_id", "reason", "channel")
    COUNTS = (
        "opened", "solved", "first_response_decided", "first_response_met",
        "resolution_decided", "resolution_met", "surveys", "ratings", "happy_ratings",
        "rating_total", "chats_closed", "chat_ratings", "chat_happy_ratings", "chat_rating_total",
    )  # fmt: skip

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "month", "team", "reason", "channel"], name="daily_tickets_unique"
            )
        ]


class DailyAgent(DailyRow):
    """An agent's day: tickets of theirs solved, ratings of their tickets and chats given,
    chats they accepted."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    solved = models.PositiveIntegerField(default=0)
    ratings = models.PositiveIntegerField(default=0)
    happy_ratings = models.PositiveIntegerField(default=0)
    rating_total = models.PositiveIntegerField(default=0)
    chats_handled = models.PositiveIntegerField(default=0)

    DIMENSIONS = ("agent_id",)
    COUNTS = ("solved", "ratings", "happy_ratings", "rating_total", "chats_handled")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "month", "agent"], name="daily_agent_unique")
        ]


class Measure(models.TextChoices):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class DailyDurations(DailyRow):
    """How many tickets got their first response (or were solved) that day after a time in
    `bucket` (dashboards/histograms.py), for the whole desk (`agent` empty) or one assignee."""

    measure = models.CharField(max_length=20, choices=Measure.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    bucket = models.PositiveSmallIntegerField()
    tickets = models.PositiveIntegerField()

    DIMENSIONS = ("measure", "agent_id", "bucket")
    COUNTS = ("tickets",)

    class Meta:
        # The whole desk's buckets and the agents' are read apart, each a range of days.
        indexes = [
            models.Index(
                fields=["measure", "month", "day", "bucket", "tickets"],
                condition=models.Q(agent__isnull=True),
                name="daily_durations_desk_idx",
            ),
            models.Index(
                fields=["measure", "month", "day", "agent", "bucket", "tickets"],
                condition=models.Q(agent__isnull=False),
                name="daily_durations_agents_idx",
            ),
        ]


class DailyPayments(DailyRow):
    """Payments of a day per provider and decline code: created that day, of those the ones
    that failed (so far), and payments whose latest failure came that day."""

    provider = models.CharField(max_length=10)
    failure_code = models.CharField(max_length=100)
    created = models.PositiveIntegerField(default=0)
    created_failed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    DIMENSIONS = ("provider", "failure_code")
    COUNTS = ("created", "created_failed", "failed")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "month", "provider", "failure_code"], name="daily_payments_unique"
            )
        ]


class DailyRecoveries(DailyRow):
    """Payments recovered with support's help that day (dashboards.metrics.recovered_in), per
    the day their failure came, provider and currency."""

    failed_day = models.DateField()
    provider = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    recovered = models.PositiveIntegerField()
    recovered_minor = models.BigIntegerField()

    DIMENSIONS = ("failed_day", "provider", "currency")
    COUNTS = ("recovered", "recovered_minor")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "month", "failed_day", "provider", "currency"],
                name="daily_recoveries_unique",
            )
        ]


class DailyRefunds(DailyRow):
    """Refunds created that day that failed, per provider and currency."""

    provider = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    failed = models.PositiveIntegerField()
    failed_minor = models.BigIntegerField()

    DIMENSIONS = ("provider", "currency")
    COUNTS = ("failed", "failed_minor")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "month", "provider", "currency"], name="daily_refunds_unique"
            )
        ]

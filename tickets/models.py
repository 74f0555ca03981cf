"""Support work: teams, tickets and the timeline of everything that happened on a ticket."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payments.models import Customer, Payment, WebhookEvent


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text=_("The time zone of the team's business hours (an IANA name: Europe/Athens)."),
    )

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessHours(models.Model):
    """One opening period of a team on a weekday, in the team's time zone. A team without any
    is open around the clock."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="business_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["team", "weekday", "opens"]
        verbose_name_plural = _("business hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="hours_close_after_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    """A day the team is closed, whatever its weekly hours say."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["team", "date"]
        constraints = [
            models.UniqueConstraint(fields=["team", "date"], name="holiday_unique_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class Tag(models.Model):
    """A label agents put on tickets to group them ("vip", "chargeback-fraud")."""

    name = models.SlugField(max_length=50, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Reason(models.TextChoices):
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    DISPUTE = "dispute", _("Dispute")
    REFUND_FAILED = "refund_failed", _("Refund failed")
    FRAUD_WARNING = "fraud_warning", _("Fraud warning")
    QUESTION = "question", _("Question")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class SlaPolicy(models.Model):
    """How soon a ticket must first be answered and then solved. The most specific active policy
    that fits a ticket wins: its team and reason, then its team, then its reason, then its
    priority alone (tickets.sla.sla_policy_for)."""

    name = models.CharField(max_length=100)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    reason = models.CharField(
        max_length=20, choices=Reason.choices, blank=True, help_text=_("Blank: any reason.")
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        help_text=_("Blank: any team."),
    )
    first_response_minutes = models.PositiveIntegerField(
        help_text=_("Minutes until the first reply to the customer is due.")
    )
    resolution_minutes = models.PositiveIntegerField(
        help_text=_("Minutes until the ticket is due to be solved.")
    )
    business_hours = models.BooleanField(
        default=True,
        help_text=_(
            "Count the minutes in the team's business hours (a team without any is open around"
            " the clock); otherwise in calendar time."
        ),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "reason", "team", "name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            # One active policy per match, so "the most specific one" is never a tie.
            models.UniqueConstraint(
                fields=["priority", "reason", "team"],
                condition=Q(active=True, team__isnull=False),
                name="sla_policy_one_active_per_team_match",
            ),
            models.UniqueConstraint(
                fields=["priority", "reason"],
                condition=Q(active=True, team__isnull=True),
                name="sla_policy_one_active_per_match",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("Email")
    AGENT = "agent", _("Agent")


class Ticket(models.Model):
    subject = models.CharField(max_length=300)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    payments = models.ManyToManyField(Payment, related_name="tickets", blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.QUESTION)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.AGENT)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    tags = models.ManyToManyField(Tag, related_name="tickets", blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    # Service-level targets, kept by tickets.sla through the services. `due_at` above is the
    # next of them that matters; `sla_paused_at` says since when the clock stands still
    # (pending, solved or closed); a breached flag is None until its target is decided
    # (answered, solved, or noticed past due).
    sla_policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_deadline = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "A fixed deadline (a dispute's evidence deadline less the margin): the resolution is"
            " due then, whatever the policy says, and waiting on the customer does not move it."
        ),
    )
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    first_response_breached = models.BooleanField(null=True, blank=True)
    resolution_breached = models.BooleanField(null=True, blank=True)

    class Meta:
        # On PostgreSQL, migration 0003 also adds trigram indexes for the queue's text search
        # (subject, customer email and name, payment ids, timeline bodies): SQLite has none.
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["reason", "status"]),
            # The open views of the queue, in their order (due first): a page reads its 25 rows
            # from here instead of sorting every open ticket.
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_open_due_idx",
            ),
            # "Solved recently" and the queue's view counts: the few solved tickets of the last
            # days among every solved ticket ever.
            models.Index(
                fields=["solved_at"],
                condition=Q(status__in=["solved", "closed"]),
                name="ticket_solved_at_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class EntryKind(models.TextChoices):
    CUSTOMER_MESSAGE = "customer_message", _("Customer message")
    AGENT_REPLY = "agent_reply", _("Agent reply")
    INTERNAL_NOTE = "internal_note", _("Internal note")
    PAYMENT_EVENT = "payment_event", _("Payment event")
    STATUS_CHANGE = "status_change", _("Status change")
    PRIORITY_CHANGE = "priority_change", _("Priority change")
    ASSIGNMENT_CHANGE = "assignment_change", _("Assignment change")
    TEAM_CHANGE = "team_change", _("Team change")
    TAGS_CHANGE = "tags_change", _("Tags change")
    MERGE = "merge", _("Merge")
    TICKET_CREATED = "ticket_created", _("Ticket created")
    CHAT_EVENT = "chat_event", _("Chat")


class TimelineEntry(models.Model):
    """One thing that happened on a ticket, in order. Customers see only `public` entries."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    body = models.TextField(blank=True)
    public = models.BooleanField(default=False)
    webhook_event = models.ForeignKey(
        WebhookEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = _("timeline entries")
        constraints = [
            # One provider event lands on a ticket's timeline once, however often it is processed.
            models.UniqueConstraint(
                fields=["ticket", "webhook_event"],
                condition=Q(webhook_event__isnull=False),
                name="entry_unique_event_per_ticket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"


class CannedResponse(models.Model):
    """A reply agents insert and adapt. `body` may hold placeholders such as {customer_name};
    tickets.canned.PLACEHOLDERS lists them."""

    title = models.CharField(max_length=120)
    body = models.TextField()
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Offer it only to agents working in this language (blank: every language)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

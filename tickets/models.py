"""Support work: teams, tickets and the timeline of everything that happened on a ticket."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from payments.models import Customer, Payment, WebhookEvent


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    def __str__(self) -> str:
        return self.name


class Reason(models.TextChoices):
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    DISPUTE = "dispute", "Dispute"
    REFUND_FAILED = "refund_failed", "Refund failed"
    FRAUD_WARNING = "fraud_warning", "Fraud warning"
    QUESTION = "question", "Question"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Channel(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    CHAT = "chat", "Chat"
    EMAIL = "email", "Email"
    AGENT = "agent", "Agent"


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
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["reason", "status"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class EntryKind(models.TextChoices):
    CUSTOMER_MESSAGE = "customer_message", "Customer message"
    AGENT_REPLY = "agent_reply", "Agent reply"
    INTERNAL_NOTE = "internal_note", "Internal note"
    PAYMENT_EVENT = "payment_event", "Payment event"
    STATUS_CHANGE = "status_change", "Status change"
    PRIORITY_CHANGE = "priority_change", "Priority change"
    ASSIGNMENT_CHANGE = "assignment_change", "Assignment change"
    TEAM_CHANGE = "team_change", "Team change"
    TICKET_CREATED = "ticket_created", "Ticket created"


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
        verbose_name_plural = "timeline entries"
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

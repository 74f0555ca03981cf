"""What Paydesk tells people: one row per notification, written before anything is sent, and the
texts and switches admins and agents control."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payments.models import Customer
from tickets.models import Ticket


class Kind(models.TextChoices):
    # To customers, by email.
    PAYMENT_FAILED = "payment_failed", _("Your payment failed")
    AGENT_REPLIED = "agent_replied", _("An agent replied")
    TICKET_SOLVED = "ticket_solved", _("Your request was solved")
    CHAT_TRANSCRIPT = "chat_transcript", _("Chat transcript")
    # To agents, in the app and by email as they choose.
    TICKET_ASSIGNED = "ticket_assigned", _("A ticket was assigned to you")
    CUSTOMER_REPLIED = "customer_replied", _("A customer replied on your ticket")
    URGENT_TICKET = "urgent_ticket", _("A new urgent ticket or dispute in your team")
    SLA_WARNING = "sla_warning", _("A ticket is about to breach its SLA")
    SLA_BREACHED = "sla_breached", _("A ticket breached its SLA")
    DISPUTE_DEADLINE_72H = "dispute_deadline_72h", _("A dispute's evidence is due in 72 hours")
    DISPUTE_DEADLINE_24H = "dispute_deadline_24h", _("A dispute's evidence is due in 24 hours")
    # To admins, by email.
    DAILY_DIGEST = "daily_digest", _("Daily digest")


CUSTOMER_KINDS = (Kind.PAYMENT_FAILED, Kind.AGENT_REPLIED, Kind.TICKET_SOLVED, Kind.CHAT_TRANSCRIPT)
AGENT_KINDS = (
    Kind.TICKET_ASSIGNED,
    Kind.CUSTOMER_REPLIED,
    Kind.URGENT_TICKET,
    Kind.SLA_WARNING,
    Kind.SLA_BREACHED,
    Kind.DISPUTE_DEADLINE_72H,
    Kind.DISPUTE_DEADLINE_24H,
)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    IN_APP = "in_app", _("In the app")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")


class Notification(models.Model):
    """One message to one recipient on one channel. `key` is unique: the same recipient, kind,
    subject and occasion make one row, however often the code that notices them runs."""

    key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    email = models.EmailField(blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    subject_ref = models.CharField(
        max_length=60, help_text=_("What it is about, as type:id (ticket:12, payment:4).")
    )
    occasion = models.CharField(max_length=60, blank=True)
    language = models.CharField(max_length=10, default="en")
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # After a failed attempt: not to be tried again before then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep: what is waiting or stuck.
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notification_undelivered_idx",
            ),
            # An agent's bell: unread notices in the app.
            models.Index(fields=["user", "channel", "read_at"], name="notification_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.user or self.email}"


class CustomerEmail(models.Model):
    """An email Paydesk sends customers: admins switch it off or rewrite it per language."""

    kind = models.CharField(
        max_length=30, choices=[(kind.value, kind.label) for kind in CUSTOMER_KINDS], unique=True
    )
    enabled = models.BooleanField(
        default=True, help_text=_("Switched off, customers are not sent this email.")
    )

    class Meta:
        ordering = ["kind"]
        verbose_name = _("customer email")
        verbose_name_plural = _("customer emails")

    def __str__(self) -> str:
        return str(self.get_kind_display())


class CustomerEmailText(models.Model):
    """The wording of a customer email in one language, in Django's template language. Without
    a row for a language, the text shipped with Paydesk is sent."""

    email = models.ForeignKey(CustomerEmail, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text=_(
            "Plain text; the HTML part is made from it. Placeholders: {{ customer_name }},"
            " {{ ticket_number }}, {{ amount }}, {{ decline_reason }}, {{ link }}, {{ body }}"
            " and the others listed under the preview."
        )
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email", "language"]
        constraints = [
            models.UniqueConstraint(fields=["email", "language"], name="email_text_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.language})"


class AgentPreferences(models.Model):
    """Which notices an agent also wants by email (every notice reaches the app)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    email_kinds = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)


class Unsubscribe(models.Model):
    """An address that asked for no more notification emails (List-Unsubscribe)."""

    email = models.EmailField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email


class SatisfactionRating(models.Model):
    """The customer's answer to the survey in the "request solved" email: 1 to 5 and a comment.
    One per ticket; answering again changes it."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="rating")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="ticket_rating_1_to_5"
            )
        ]
        # The dashboard's ratings of today and its latest comments.
        indexes = [models.Index(fields=["created_at"], name="rating_created_idx")]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.rating}/5"

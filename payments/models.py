"""What the payment providers tell us: customers, payments, disputes, refunds and the raw events."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Provider(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    PAYPAL = "paypal", "PayPal"


class Customer(models.Model):
    email = models.EmailField(blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    paypal_payer_id = models.CharField(max_length=100, blank=True)
    locale = models.CharField(max_length=10, default="en")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="customer_unique_stripe_id",
            ),
            models.UniqueConstraint(
                fields=["paypal_payer_id"],
                condition=~Q(paypal_payer_id=""),
                name="customer_unique_paypal_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"Customer {self.pk}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    REQUIRES_ACTION = "requires_action", _("Requires action")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    DISPUTED = "disputed", _("Disputed")


class Payment(models.Model):
    provider = models.CharField(max_length=10, choices=Provider.choices)
    provider_payment_id = models.CharField(max_length=100)
    # Stripe names a payment by its PaymentIntent, but refunds, disputes and fraud warnings
    # may name only the charge: keep both so every event finds its payment.
    provider_charge_id = models.CharField(max_length=100, blank=True, db_index=True)
    amount_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    refunded_amount_minor = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.TextField(blank=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    description = models.CharField(max_length=300, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovered_amount_minor = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"], name="payment_unique_provider_id"
            ),
        ]
        indexes = [models.Index(fields=["status", "provider"])]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.provider_payment_id}"

    def dashboard_url(self) -> str:
        """Where an agent sees this payment in the provider's own dashboard."""
        if self.provider == Provider.STRIPE:
            return f"https://dashboard.stripe.com/payments/{self.provider_payment_id}"
        return f"https://www.paypal.com/activity/payment/{self.provider_payment_id}"


class DisputeOutcome(models.TextChoices):
    # Greek and other languages agree the word with "dispute", not with "ticket".
    OPEN = "open", pgettext_lazy("dispute outcome", "Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Dispute(models.Model):
    provider = models.CharField(max_length=10, choices=Provider.choices)
    provider_dispute_id = models.CharField(max_length=100)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="disputes")
    amount_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    reason = models.CharField(max_length=100, blank=True)
    provider_status = models.CharField(max_length=60, blank=True)
    outcome = models.CharField(
        max_length=10, choices=DisputeOutcome.choices, default=DisputeOutcome.OPEN
    )
    evidence_due_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_dispute_id"], name="dispute_unique_provider_id"
            ),
        ]
        # The dashboard's open disputes, nearest deadline first.
        indexes = [
            models.Index(
                fields=["evidence_due_at"],
                condition=models.Q(outcome="open"),
                name="dispute_open_deadline_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Dispute {self.provider_dispute_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


class Refund(models.Model):
    provider = models.CharField(max_length=10, choices=Provider.choices)
    provider_refund_id = models.CharField(max_length=100)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="refunds")
    amount_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    failure_reason = models.CharField(max_length=200, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_refund_id"], name="refund_unique_provider_id"
            ),
        ]
        # The dashboard's failed refunds of today (older days come from its rollups).
        indexes = [models.Index(fields=["created_at"], name="refund_created_idx")]

    def __str__(self) -> str:
        return f"Refund {self.provider_refund_id}"


class EventOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class WebhookEvent(models.Model):
    """A provider delivery, stored byte for byte before it is answered."""

    provider = models.CharField(max_length=10, choices=Provider.choices)
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100, db_index=True)
    body = models.BinaryField()
    signature_headers = models.JSONField(default=dict)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=EventOutcome.choices, default=EventOutcome.PENDING
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="event_unique_provider_id"
            ),
        ]
        indexes = [models.Index(fields=["outcome", "received_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"

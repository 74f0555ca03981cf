"""Admin pages for what the providers told us.

Payments, disputes, refunds and events mirror the providers and change only through webhooks,
so their pages are read-only; customers may be corrected by hand.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from payments.models import Customer, Dispute, Payment, Refund, WebhookEvent
from payments.money import format_amount
from payments.services import enqueue_processing

REPROCESS_MESSAGE = (
    "Queued {count} event(s) for processing. Events already processed or ignored stay as they are."
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A page to look at, never to edit or delete: the data is the provider's, not ours, and
    a verified delivery is never lost."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "email", "stripe_customer_id", "paypal_payer_id", "created_at"]
    search_fields = ["email", "name", "stripe_customer_id", "paypal_payer_id"]
    list_filter = ["locale"]
    readonly_fields = ["created_at"]
    ordering = ["-created_at"]


class DisputeInline(admin.TabularInline):
    model = Dispute
    fields = ["provider_dispute_id", "amount_minor", "currency", "reason", "outcome"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    fields = ["provider_refund_id", "amount_minor", "currency", "status", "failure_reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "provider_payment_id",
        "provider",
        "status",
        "amount",
        "customer",
        "failure_code",
        "created_at",
    ]
    list_filter = ["provider", "status", "currency"]
    list_select_related = ["customer"]
    search_fields = [
        "provider_payment_id",
        "provider_charge_id",
        "customer__email",
        "customer__name",
    ]
    date_hierarchy = "created_at"
    inlines = [DisputeInline, RefundInline]

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, payment: Payment) -> str:
        return format_amount(payment.amount_minor, payment.currency)


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = [
        "provider_dispute_id",
        "provider",
        "payment",
        "amount",
        "reason",
        "outcome",
        "evidence_due_at",
    ]
    list_filter = ["provider", "outcome"]
    list_select_related = ["payment"]
    search_fields = [
        "provider_dispute_id",
        "payment__provider_payment_id",
        "payment__customer__email",
    ]

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, dispute: Dispute) -> str:
        return format_amount(dispute.amount_minor, dispute.currency)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["provider_refund_id", "provider", "payment", "amount", "status", "created_at"]
    list_filter = ["provider", "status"]
    list_select_related = ["payment"]
    search_fields = [
        "provider_refund_id",
        "payment__provider_payment_id",
        "payment__customer__email",
    ]

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, refund: Refund) -> str:
        return format_amount(refund.amount_minor, refund.currency)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = [
        "event_id",
        "provider",
        "event_type",
        "outcome",
        "payment",
        "attempts",
        "deliveries",
        "received_at",
        "processed_at",
    ]
    list_filter = ["provider", "outcome", "event_type"]
    list_select_related = ["payment"]
    search_fields = ["event_id", "payment__provider_payment_id", "payment__provider_charge_id"]
    date_hierarchy = "received_at"
    fields = [
        "provider",
        "event_id",
        "event_type",
        "payment",
        "outcome",
        "error",
        "attempts",
        "deliveries",
        "received_at",
        "processed_at",
        "signature_headers",
        "body_text",
    ]
    readonly_fields = fields
    actions = ["reprocess"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        # A body can be up to WEBHOOK_MAX_BODY_BYTES: load it only on the page that shows it.
        return super().get_queryset(request).defer("body")

    @admin.display(description="body")
    def body_text(self, event: WebhookEvent) -> str:
        return bytes(event.body).decode("utf-8", errors="replace")

    @admin.action(description="Reprocess selected events", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        for pk in pks:
            enqueue_processing(pk)
        self.message_user(
            request,
            REPROCESS_MESSAGE.format(count=len(pks)),
            messages.SUCCESS,
        )

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_webhookevent")

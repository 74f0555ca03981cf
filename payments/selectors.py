"""Reads of payments and of the provider events behind them."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from payments.models import Dispute, Payment, Refund, WebhookEvent


def payment_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Payment]:
    """Payments, newest first. `filters`: provider, status, q (payment, charge id or email)."""
    filters = filters or {}
    payments = Payment.objects.select_related("customer")
    for field in ("provider", "status"):
        if filters.get(field):
            payments = payments.filter(**{field: filters[field]})
    if q := (filters.get("q") or "").strip():
        payments = payments.filter(
            Q(provider_payment_id__icontains=q)
            | Q(provider_charge_id__icontains=q)
            | Q(customer__email__icontains=q)
        )
    return payments.order_by("-created_at", "-pk")


def payment_get(*, pk: int) -> Payment | None:
    """A payment with its disputes, refunds and the events received about it."""
    return (
        Payment.objects.select_related("customer")
        .prefetch_related(
            Prefetch("disputes", queryset=Dispute.objects.order_by("pk")),
            Prefetch("refunds", queryset=Refund.objects.order_by("pk")),
            Prefetch("events", queryset=_events_without_body().order_by("received_at", "pk")),
        )
        .filter(pk=pk)
        .first()
    )


def webhook_event_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[WebhookEvent]:
    """Stored provider events, newest first, without their bodies.

    `filters`: provider, outcome, event_type.
    """
    filters = filters or {}
    events = _events_without_body().select_related("payment")
    for field in ("provider", "outcome", "event_type"):
        if filters.get(field):
            events = events.filter(**{field: filters[field]})
    return events.order_by("-received_at", "-pk")


def webhook_event_get(*, pk: int) -> WebhookEvent | None:
    return WebhookEvent.objects.select_related("payment").filter(pk=pk).first()


def _events_without_body() -> QuerySet[WebhookEvent]:
    # A body can be up to WEBHOOK_MAX_BODY_BYTES: lists never need it.
    return WebhookEvent.objects.defer("body", "signature_headers")

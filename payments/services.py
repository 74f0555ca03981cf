"""Writes for payments: store a provider delivery, then turn it into payment state and tickets."""

import json
import logging
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from helpdesk.celery import broker_backoff_reset, queue_task  # noqa: F401  (re-exported)
from payments import rules
from payments.models import (
    Customer,
    Dispute,
    EventOutcome,
    Payment,
    PaymentStatus,
    Provider,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from payments.paypal import adapter as paypal_adapter
from payments.signal import CustomerRef, PaymentSignal, SignalKind
from payments.stripe import adapter as stripe_adapter

logger = logging.getLogger(__name__)

ADAPTERS = {Provider.STRIPE: stripe_adapter, Provider.PAYPAL: paypal_adapter}


def webhook_event_store(
    *,
    provider: Provider,
    event_id: str,
    event_type: str,
    body: bytes,
    signature_headers: dict[str, str],
) -> tuple[WebhookEvent, bool]:
    """Store a verified delivery durably; return (event, created).

    A redelivery of a known event counts the delivery and re-queues it if it had failed; a
    pending one is already queued (or left to the sweep). Processing is queued after the
    transaction commits, so a worker never looks for a row it cannot see yet.
    """
    try:
        # The first delivery is the common case: one INSERT, no look-up first.
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider,
                event_id=event_id,
                event_type=event_type,
                body=body,
                signature_headers=signature_headers,
            )
            transaction.on_commit(lambda: enqueue_processing(event.pk))
        return event, True
    except IntegrityError:
        pass
    event = WebhookEvent.objects.get(provider=provider, event_id=event_id)
    WebhookEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
    if event.outcome == EventOutcome.FAILED:
        enqueue_processing(event.pk)
    return event, False


# After a failed publish, skip the broker for a while instead of making every delivery wait on
# a connection timeout: the events stay stored and the periodic sweep queues them.
def enqueue_processing(event_pk: int) -> bool:
    """Queue processing; with the broker down the event stays stored and the sweep takes it."""
    from payments.tasks import process_webhook_event

    return queue_task(process_webhook_event, event_pk)


def webhook_event_process(*, event_pk: int) -> EventOutcome:
    """Apply one stored event. Safe to call any number of times, in any order, concurrently.

    In English whatever language the delivering request spoke: what it writes on timelines is
    stored once and read in every agent's language (in-process, a browser's request can carry
    the delivery, as the demo checkout's does)."""
    try:
        with transaction.atomic(), translation.override("en"):
            # The event row lock makes a concurrent second processing of the same event wait,
            # then see it processed and do nothing.
            event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
            if event.outcome in (EventOutcome.PROCESSED, EventOutcome.IGNORED):
                return EventOutcome(event.outcome)
            signal = ADAPTERS[Provider(event.provider)].to_signal(json.loads(bytes(event.body)))
            if signal is None:
                outcome = EventOutcome.IGNORED
            else:
                event.payment = apply_signal(signal, event)
                outcome = EventOutcome.PROCESSED
            event.outcome = outcome
            event.processed_at = timezone.now()
            event.attempts += 1
            event.error = ""
            event.save(update_fields=["outcome", "processed_at", "attempts", "error", "payment"])
            return outcome
    except Exception as exc:
        logger.exception("processing webhook event %s failed", event_pk)
        WebhookEvent.objects.filter(pk=event_pk).update(
            outcome=EventOutcome.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            attempts=F("attempts") + 1,
        )
        raise


def apply_signal(signal: PaymentSignal, event: WebhookEvent) -> Payment | None:
    """Bring the payment up to date with the signal, then let the rules act on tickets."""
    payment = payment_lock_for_signal(signal) if signal.payment_ref else None
    recovered = False
    if payment is not None:
        recovered = payment_apply_signal(payment=payment, signal=signal)
        if signal.dispute:
            dispute_apply_signal(payment=payment, signal=signal)
        if signal.refund:
            refund_apply_signal(payment=payment, signal=signal)
    rules.apply(signal=signal, payment=payment, event=event, recovered=recovered)
    return payment


def customer_upsert(ref: CustomerRef, provider: Provider) -> Customer:
    id_field = "stripe_customer_id" if provider == Provider.STRIPE else "paypal_payer_id"
    lookup = Q()
    if ref.provider_customer_id:
        lookup |= Q(**{id_field: ref.provider_customer_id})
    if ref.email:
        lookup |= Q(email__iexact=ref.email)
    customer = Customer.objects.filter(lookup).order_by("pk").first()
    if customer is None:
        try:
            with transaction.atomic():
                return Customer.objects.create(
                    email=ref.email,
                    name=ref.name,
                    **({id_field: ref.provider_customer_id} if ref.provider_customer_id else {}),
                )
        except IntegrityError:
            return Customer.objects.get(**{id_field: ref.provider_customer_id})
    changed = []
    for field, value in (("email", ref.email), ("name", ref.name)):
        if value and not getattr(customer, field):
            setattr(customer, field, value)
            changed.append(field)
    if ref.provider_customer_id and not getattr(customer, id_field):
        setattr(customer, id_field, ref.provider_customer_id)
        changed.append(id_field)
    if changed:
        customer.save(update_fields=changed)
    return customer


def payment_lock_for_signal(signal: PaymentSignal) -> Payment:
    """The signal's payment, created if new, locked for the rest of the transaction.

    Every event about one payment is applied under this row lock (SELECT … FOR UPDATE on
    PostgreSQL), so two workers never both decide to open a ticket for it.
    """
    if connection.vendor == "postgresql":
        # A row lock cannot cover a payment that does not exist yet: an event naming only the
        # charge and one naming the PaymentIntent would each create one. Serialize on the
        # charge (or the payment) id instead, until the transaction ends.
        key = f"{signal.provider}:{signal.charge_ref or signal.payment_ref}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
    payments = Payment.objects.filter(provider=signal.provider)
    exact = payments.filter(provider_payment_id=signal.payment_ref)
    payment = exact.select_for_update().first()
    if payment is None and signal.charge_ref:
        by_charge = payments.filter(
            Q(provider_charge_id=signal.charge_ref) | Q(provider_payment_id=signal.charge_ref)
        )
        payment = by_charge.select_for_update().order_by("pk").first()
    if payment is not None:
        return payment
    amount = signal.amount_minor
    currency = signal.currency
    if signal.dispute and amount is None:
        amount, currency = signal.dispute.amount_minor, signal.dispute.currency
    if signal.refund and amount is None:
        amount, currency = signal.refund.amount_minor, signal.refund.currency
    Payment.objects.get_or_create(
        provider=signal.provider,
        provider_payment_id=signal.payment_ref,
        defaults={
            "provider_charge_id": signal.charge_ref,
            "amount_minor": amount or 0,
            "currency": currency or "USD",
        },
    )
    return exact.select_for_update().get()


def payment_apply_signal(*, payment: Payment, signal: PaymentSignal) -> bool:
    """Update the payment; return whether this signal made it recovered revenue.

    An event older than the newest one applied never moves its status. A payment that
    succeeded after it had failed is recovered, whatever order its events arrived in.
    """
    fields: dict[str, Any] = {}
    if signal.customer and payment.customer_id is None:
        fields["customer"] = customer_upsert(signal.customer, signal.provider)
    if signal.charge_ref and not payment.provider_charge_id:
        fields["provider_charge_id"] = signal.charge_ref
    if signal.amount_minor is not None and signal.kind != SignalKind.PAYMENT_REFUNDED:
        fields["amount_minor"] = signal.amount_minor
        fields["currency"] = signal.currency or payment.currency
    if signal.payment_status == PaymentStatus.FAILED:
        fields["failed_at"] = max(filter(None, [payment.failed_at, signal.occurred_at]))
    if signal.payment_status == PaymentStatus.SUCCEEDED:
        fields["succeeded_at"] = max(filter(None, [payment.succeeded_at, signal.occurred_at]))
    if signal.refunded_amount_minor is not None:
        fields["refunded_amount_minor"] = max(
            payment.refunded_amount_minor, signal.refunded_amount_minor
        )
    is_newest = payment.last_event_at is None or signal.occurred_at >= payment.last_event_at
    if is_newest and signal.payment_status:
        fields["status"] = signal.payment_status
        fields["last_event_at"] = signal.occurred_at
        if signal.payment_status == PaymentStatus.FAILED:
            fields["failure_code"] = signal.failure_code
            fields["failure_message"] = signal.failure_message
    for name, value in fields.items():
        setattr(payment, name, value)
    recovered = bool(
        payment.recovered_at is None
        and payment.failed_at
        and payment.succeeded_at
        and payment.succeeded_at > payment.failed_at
    )
    if recovered:
        payment.recovered_at = payment.succeeded_at
        payment.recovered_amount_minor = payment.amount_minor
    if fields or recovered:
        payment.save()
    return recovered


def dispute_apply_signal(*, payment: Payment, signal: PaymentSignal) -> Dispute:
    ref = signal.dispute
    if ref is None:
        raise ValueError("not a dispute signal")
    dispute, _ = Dispute.objects.get_or_create(
        provider=signal.provider,
        provider_dispute_id=ref.dispute_id,
        defaults={"payment": payment, "currency": ref.currency or payment.currency},
    )
    if dispute.last_event_at is None or signal.occurred_at >= dispute.last_event_at:
        dispute.amount_minor = ref.amount_minor or dispute.amount_minor
        dispute.reason = ref.reason or dispute.reason
        dispute.provider_status = ref.provider_status or dispute.provider_status
        dispute.evidence_due_at = ref.evidence_due_at or dispute.evidence_due_at
        dispute.outcome = ref.outcome
        dispute.last_event_at = signal.occurred_at
        dispute.save()
    return dispute


def refund_apply_signal(*, payment: Payment, signal: PaymentSignal) -> Refund:
    ref = signal.refund
    if ref is None:
        raise ValueError("not a refund signal")
    refund, _ = Refund.objects.get_or_create(
        provider=signal.provider,
        provider_refund_id=ref.refund_id,
        defaults={"payment": payment, "currency": ref.currency or payment.currency},
    )
    if refund.last_event_at is None or signal.occurred_at >= refund.last_event_at:
        refund.amount_minor = ref.amount_minor or refund.amount_minor
        refund.status = ref.status
        refund.failure_reason = ref.failure_reason
        refund.last_event_at = signal.occurred_at
        refund.save()
    if ref.status == RefundStatus.SUCCEEDED and payment.amount_minor:
        refunded = signal.refunded_amount_minor or sum(
            payment.refunds.filter(status=RefundStatus.SUCCEEDED).values_list(
                "amount_minor", flat=True
            )
        )
        payment.refunded_amount_minor = max(payment.refunded_amount_minor, refunded)
        if payment.last_event_at is None or signal.occurred_at >= payment.last_event_at:
            full = payment.refunded_amount_minor >= payment.amount_minor
            payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
            payment.last_event_at = signal.occurred_at
        payment.save()
    return refund

"""Stripe event JSON -> PaymentSignal.

Only a few stable fields are read (ids, type, status, amounts), so the adapter works across the
webhook endpoint API versions (the PaymentIntent `charges` list became `latest_charge` in 2022).
"""

from datetime import UTC, datetime
from typing import Any

from payments.decline_reasons import decline_reason_in_words
from payments.models import DisputeOutcome, PaymentStatus, Provider, RefundStatus
from payments.money import format_amount
from payments.signal import CustomerRef, DisputeRef, PaymentSignal, RefundRef, SignalKind

Obj = dict[str, Any]

PAYMENT_INTENT_KINDS = {
    "payment_intent.payment_failed": (SignalKind.PAYMENT_FAILED, PaymentStatus.FAILED),
    "payment_intent.succeeded": (SignalKind.PAYMENT_SUCCEEDED, PaymentStatus.SUCCEEDED),
    "payment_intent.processing": (SignalKind.PAYMENT_PENDING, PaymentStatus.PENDING),
    "payment_intent.requires_action": (
        SignalKind.PAYMENT_REQUIRES_ACTION,
        PaymentStatus.REQUIRES_ACTION,
    ),
    "payment_intent.canceled": (SignalKind.PAYMENT_CANCELED, PaymentStatus.CANCELED),
    "charge.failed": (SignalKind.PAYMENT_FAILED, PaymentStatus.FAILED),
    "charge.succeeded": (SignalKind.PAYMENT_SUCCEEDED, PaymentStatus.SUCCEEDED),
    "charge.pending": (SignalKind.PAYMENT_PENDING, PaymentStatus.PENDING),
    "invoice.payment_failed": (SignalKind.PAYMENT_FAILED, PaymentStatus.FAILED),
    "invoice.payment_action_required": (
        SignalKind.PAYMENT_REQUIRES_ACTION,
        PaymentStatus.REQUIRES_ACTION,
    ),
    "invoice.payment_succeeded": (SignalKind.PAYMENT_SUCCEEDED, PaymentStatus.SUCCEEDED),
    "checkout.session.async_payment_failed": (SignalKind.PAYMENT_FAILED, PaymentStatus.FAILED),
    "checkout.session.async_payment_succeeded": (
        SignalKind.PAYMENT_SUCCEEDED,
        PaymentStatus.SUCCEEDED,
    ),
}
REFUND_TYPES = {
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
}
DISPUTE_KINDS = {
    "charge.dispute.created": SignalKind.DISPUTE_OPENED,
    "charge.dispute.updated": SignalKind.DISPUTE_UPDATED,
    "charge.dispute.funds_withdrawn": SignalKind.DISPUTE_UPDATED,
    "charge.dispute.funds_reinstated": SignalKind.DISPUTE_UPDATED,
    "charge.dispute.closed": SignalKind.DISPUTE_CLOSED,
}
FRAUD_TYPES = {"radar.early_fraud_warning.created", "radar.early_fraud_warning.updated"}
RECORDED_TYPES = {"checkout.session.completed", "checkout.session.expired", "charge.captured"}

REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}
DISPUTE_OUTCOMES = {
    "won": DisputeOutcome.WON,
    "warning_closed": DisputeOutcome.WON,
    "lost": DisputeOutcome.LOST,
}


def event_identity(event: Obj) -> tuple[str, str]:
    """(event id, event type) of a Stripe event envelope."""
    return str(event["id"]), str(event["type"])


def to_signal(event: Obj) -> PaymentSignal | None:
    """The signal for a Stripe event, or None for an event type Paydesk does not use."""
    event_type = event["type"]
    obj: Obj = event["data"]["object"]
    base = {
        "provider": Provider.STRIPE,
        "event_id": event["id"],
        "event_type": event_type,
        "occurred_at": _timestamp(event["created"]),
    }
    if event_type in PAYMENT_INTENT_KINDS:
        kind, status = PAYMENT_INTENT_KINDS[event_type]
        return _payment_signal(obj, kind, status, base)
    if event_type == "charge.refunded":
        return _charge_refunded(obj, base)
    if event_type in REFUND_TYPES:
        return _refund_signal(obj, base)
    if event_type in DISPUTE_KINDS:
        return _dispute_signal(obj, DISPUTE_KINDS[event_type], base)
    if event_type in FRAUD_TYPES:
        return PaymentSignal(
            kind=SignalKind.FRAUD_WARNING,
            summary=f"Early fraud warning from the card issuer ({obj.get('fraud_type', '')}).",
            payment_ref=_str(obj.get("payment_intent")) or _str(obj.get("charge")),
            charge_ref=_str(obj.get("charge")),
            **base,
        )
    if event_type in RECORDED_TYPES:
        return PaymentSignal(
            kind=SignalKind.OTHER,
            summary=f"Stripe {event_type}",
            payment_ref=_str(obj.get("payment_intent")) or _str(obj.get("charge")),
            charge_ref=_str(obj.get("charge")),
            amount_minor=_first_int(obj, "amount", "amount_total"),
            currency=_str(obj.get("currency")).upper() or None,
            customer=_customer(obj),
            **base,
        )
    return None


def _payment_signal(obj: Obj, kind: SignalKind, status: PaymentStatus, base: Obj) -> PaymentSignal:
    payment_ref, charge_ref = _refs(obj)
    amount = _first_int(obj, "amount", "amount_total", "amount_due")
    currency = _str(obj.get("currency")).upper() or None
    code, message = _failure(obj) if kind == SignalKind.PAYMENT_FAILED else ("", "")
    words = {
        SignalKind.PAYMENT_FAILED: "Payment failed",
        SignalKind.PAYMENT_SUCCEEDED: "Payment succeeded",
        SignalKind.PAYMENT_PENDING: "Payment processing",
        SignalKind.PAYMENT_REQUIRES_ACTION: "Payment needs the customer to authenticate",
        SignalKind.PAYMENT_CANCELED: "Payment canceled",
    }[kind]
    summary = f"{words}: {format_amount(amount, currency)}".rstrip(": ")
    if code or message:
        summary += f" — {decline_reason_in_words(code, message)}"
    return PaymentSignal(
        kind=kind,
        summary=summary,
        payment_ref=payment_ref,
        charge_ref=charge_ref,
        amount_minor=amount,
        currency=currency,
        payment_status=status,
        failure_code=code,
        failure_message=message,
        customer=_customer(obj),
        **base,
    )


def _charge_refunded(obj: Obj, base: Obj) -> PaymentSignal:
    amount = obj.get("amount")
    refunded = obj.get("amount_refunded") or 0
    full = amount is not None and refunded >= amount
    currency = _str(obj.get("currency")).upper() or None
    return PaymentSignal(
        kind=SignalKind.PAYMENT_REFUNDED,
        summary=f"Refunded {format_amount(refunded, currency)}",
        payment_ref=_str(obj.get("payment_intent")) or obj["id"],
        charge_ref=obj["id"],
        amount_minor=amount,
        currency=currency,
        payment_status=PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED,
        refunded_amount_minor=refunded,
        customer=_customer(obj),
        **base,
    )


def _refund_signal(obj: Obj, base: Obj) -> PaymentSignal:
    status = REFUND_STATUSES.get(_str(obj.get("status")), RefundStatus.PENDING)
    currency = _str(obj.get("currency")).upper() or None
    failure = _str(obj.get("failure_reason"))
    summary = f"Refund of {format_amount(obj.get('amount'), currency)}: {status.label.lower()}"
    if failure:
        summary += f" ({failure.replace('_', ' ')})"
    return PaymentSignal(
        kind=SignalKind.REFUND_UPDATED,
        summary=summary,
        payment_ref=_str(obj.get("payment_intent")) or _str(obj.get("charge")),
        charge_ref=_str(obj.get("charge")),
        refund=RefundRef(
            refund_id=obj["id"],
            status=status,
            amount_minor=obj.get("amount"),
            currency=currency,
            failure_reason=failure,
        ),
        **base,
    )


def _dispute_signal(obj: Obj, kind: SignalKind, base: Obj) -> PaymentSignal:
    currency = _str(obj.get("currency")).upper() or None
    due_by = (obj.get("evidence_details") or {}).get("due_by")
    provider_status = _str(obj.get("status"))
    outcome = DISPUTE_OUTCOMES.get(provider_status, DisputeOutcome.OPEN)
    reason = _str(obj.get("reason"))
    if kind == SignalKind.DISPUTE_CLOSED:
        summary = f"Dispute closed: {outcome.label.lower()}"
    else:
        summary = f"Dispute ({reason.replace('_', ' ')}): {provider_status.replace('_', ' ')}"
    return PaymentSignal(
        kind=kind,
        summary=summary,
        payment_ref=_str(obj.get("payment_intent")) or _str(obj.get("charge")),
        charge_ref=_str(obj.get("charge")),
        payment_status=PaymentStatus.DISPUTED,
        dispute=DisputeRef(
            dispute_id=obj["id"],
            amount_minor=obj.get("amount"),
            currency=currency,
            reason=reason,
            provider_status=provider_status,
            evidence_due_at=_timestamp(due_by) if due_by else None,
            outcome=outcome,
        ),
        **base,
    )


def _refs(obj: Obj) -> tuple[str, str]:
    """(payment id, charge id): the PaymentIntent when there is one, else the charge."""
    kind = obj.get("object")
    if kind == "payment_intent":
        charge = _str(obj.get("latest_charge"))
        charges = (obj.get("charges") or {}).get("data") or []
        if not charge and charges:
            charge = _str(charges[0].get("id"))
        return obj["id"], charge
    if kind == "charge":
        return _str(obj.get("payment_intent")) or obj["id"], obj["id"]
    charge = _str(obj.get("charge"))
    return _str(obj.get("payment_intent")) or charge or _str(obj.get("id")), charge


def _failure(obj: Obj) -> tuple[str, str]:
    error = obj.get("last_payment_error") or {}
    if error:
        return _str(error.get("decline_code") or error.get("code")), _str(error.get("message"))
    outcome = obj.get("outcome") or {}
    code = _str(obj.get("failure_code"))
    if code == "card_declined" and outcome.get("reason"):
        code = _str(outcome["reason"])
    return code, _str(obj.get("failure_message"))


def _customer(obj: Obj) -> CustomerRef | None:
    customer = obj.get("customer")
    customer_id = customer if isinstance(customer, str) else _str((customer or {}).get("id"))
    billing = obj.get("billing_details") or {}
    details = obj.get("customer_details") or {}
    charges = (obj.get("charges") or {}).get("data") or []
    charge_billing = (charges[0].get("billing_details") or {}) if charges else {}
    email = _str(
        obj.get("receipt_email")
        or obj.get("customer_email")
        or billing.get("email")
        or details.get("email")
        or charge_billing.get("email")
    )
    name = _str(
        obj.get("customer_name")
        or billing.get("name")
        or details.get("name")
        or charge_billing.get("name")
    )
    if not (customer_id or email):
        return None
    return CustomerRef(provider_customer_id=customer_id, email=email, name=name)


def _first_int(obj: Obj, *keys: str) -> int | None:
    for key in keys:
        if isinstance(obj.get(key), int):
            return obj[key]
    return None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _timestamp(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)

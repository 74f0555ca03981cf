"""PayPal event JSON -> PaymentSignal.

PayPal sends two generations of payloads: Payments v2 (captures, `amount.value` and
`currency_code`) and the older v1 (sales, `amount.total` and `currency`). Both are read here.
"""

from datetime import datetime
from typing import Any

from payments.decline_reasons import decline_reason_in_words
from payments.models import DisputeOutcome, PaymentStatus, Provider, RefundStatus
from payments.money import format_amount, to_minor
from payments.signal import CustomerRef, DisputeRef, PaymentSignal, RefundRef, SignalKind

Obj = dict[str, Any]

PAYMENT_KINDS = {
    "PAYMENT.CAPTURE.COMPLETED": (SignalKind.PAYMENT_SUCCEEDED, PaymentStatus.SUCCEEDED),
    "PAYMENT.CAPTURE.PENDING": (SignalKind.PAYMENT_PENDING, PaymentStatus.PENDING),
    "PAYMENT.CAPTURE.DECLINED": (SignalKind.PAYMENT_FAILED, PaymentStatus.FAILED),
    "PAYMENT.CAPTURE.DENIED": (SignalKind.PAYMENT_FAILED, PaymentStatus.FAILED),
    "PAYMENT.SALE.COMPLETED": (SignalKind.PAYMENT_SUCCEEDED, PaymentStatus.SUCCEEDED),
    "PAYMENT.SALE.PENDING": (SignalKind.PAYMENT_PENDING, PaymentStatus.PENDING),
    "PAYMENT.SALE.DENIED": (SignalKind.PAYMENT_FAILED, PaymentStatus.FAILED),
}
REFUND_TYPES = {"PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED", "PAYMENT.SALE.REFUNDED"}
DISPUTE_KINDS = {
    "CUSTOMER.DISPUTE.CREATED": SignalKind.DISPUTE_OPENED,
    "RISK.DISPUTE.CREATED": SignalKind.DISPUTE_OPENED,
    "CUSTOMER.DISPUTE.UPDATED": SignalKind.DISPUTE_UPDATED,
    "CUSTOMER.DISPUTE.RESOLVED": SignalKind.DISPUTE_CLOSED,
}
RECORDED_TYPES = {
    "PAYMENT.SALE.REVERSED",
    "CHECKOUT.ORDER.APPROVED",
    "CHECKOUT.ORDER.COMPLETED",
    "PAYMENT.AUTHORIZATION.CREATED",
    "PAYMENT.AUTHORIZATION.VOIDED",
}
REFUND_STATUSES = {
    "COMPLETED": RefundStatus.SUCCEEDED,
    "completed": RefundStatus.SUCCEEDED,
    "FAILED": RefundStatus.FAILED,
    "CANCELLED": RefundStatus.CANCELED,
}
SELLER_WINS = {"RESOLVED_SELLER_FAVOUR", "CANCELED_BY_BUYER", "DENIED"}


def event_identity(event: Obj) -> tuple[str, str]:
    """(event id, event type) of a PayPal event envelope."""
    return str(event["id"]), str(event["event_type"])


def to_signal(event: Obj) -> PaymentSignal | None:
    """The signal for a PayPal event, or None for an event type Paydesk does not use."""
    event_type = event["event_type"]
    resource: Obj = event.get("resource") or {}
    base = {
        "provider": Provider.PAYPAL,
        "event_id": event["id"],
        "event_type": event_type,
        "occurred_at": _time(event["create_time"]),
    }
    if event_type in PAYMENT_KINDS:
        kind, status = PAYMENT_KINDS[event_type]
        return _payment_signal(resource, kind, status, base)
    if event_type == "BILLING.SUBSCRIPTION.PAYMENT.FAILED":
        return _subscription_failed(resource, base)
    if event_type in REFUND_TYPES:
        return _refund_signal(resource, base)
    if event_type in DISPUTE_KINDS:
        return _dispute_signal(resource, DISPUTE_KINDS[event_type], base)
    if event_type in RECORDED_TYPES:
        return PaymentSignal(
            kind=SignalKind.OTHER,
            summary=_str(event.get("summary")) or f"PayPal {event_type}",
            **base,
        )
    return None


def _payment_signal(r: Obj, kind: SignalKind, status: PaymentStatus, base: Obj) -> PaymentSignal:
    amount, currency = _amount(r.get("amount"))
    code = ""
    summary = f"Payment {status.label.lower()}: {format_amount(amount, currency)}"
    if kind == SignalKind.PAYMENT_FAILED:
        code = (
            _str((r.get("status_details") or {}).get("reason"))
            or _str(r.get("status") or r.get("state")).upper()
        )
        summary = (
            f"Payment failed: {format_amount(amount, currency)} — {decline_reason_in_words(code)}"
        )
    return PaymentSignal(
        kind=kind,
        summary=summary,
        payment_ref=_str(r.get("id")),
        amount_minor=amount,
        currency=currency,
        payment_status=status,
        failure_code=code,
        failure_message=decline_reason_in_words(code) if code else "",
        customer=_payer(r.get("payer")),
        **base,
    )


def _subscription_failed(r: Obj, base: Obj) -> PaymentSignal:
    failed = (r.get("billing_info") or {}).get("last_failed_payment") or {}
    amount, currency = _amount(failed.get("amount"))
    code = _str(failed.get("reason_code"))
    subscriber = r.get("subscriber") or {}
    name = subscriber.get("name") or {}
    return PaymentSignal(
        kind=SignalKind.PAYMENT_FAILED,
        summary=(
            f"Subscription payment failed: {format_amount(amount, currency)}"
            f" — {decline_reason_in_words(code)}"
        ),
        payment_ref=_str(r.get("id")),
        amount_minor=amount,
        currency=currency,
        payment_status=PaymentStatus.FAILED,
        failure_code=code,
        failure_message=decline_reason_in_words(code),
        customer=CustomerRef(
            provider_customer_id=_str(subscriber.get("payer_id")),
            email=_str(subscriber.get("email_address")),
            name=" ".join(filter(None, [name.get("given_name"), name.get("surname")])),
        ),
        **base,
    )


def _refund_signal(r: Obj, base: Obj) -> PaymentSignal:
    amount, currency = _amount(r.get("amount"))
    amount = abs(amount) if amount is not None else None
    status = REFUND_STATUSES.get(_str(r.get("status") or r.get("state")), RefundStatus.PENDING)
    total = (r.get("seller_payable_breakdown") or {}).get("total_refunded_amount")
    words = "Payment reversed" if base["event_type"].endswith("REVERSED") else "Refund"
    return PaymentSignal(
        kind=SignalKind.REFUND_UPDATED,
        summary=f"{words} of {format_amount(amount, currency)}: {status.label.lower()}",
        payment_ref=_str(r.get("sale_id")) or _captured_id(r),
        refund=RefundRef(
            refund_id=_str(r.get("id")),
            status=status,
            amount_minor=amount,
            currency=currency,
            failure_reason=_str((r.get("status_details") or {}).get("reason")),
        ),
        refunded_amount_minor=_amount(total)[0] if total else None,
        **base,
    )


def _dispute_signal(r: Obj, kind: SignalKind, base: Obj) -> PaymentSignal:
    amount, currency = _amount(r.get("dispute_amount"))
    transactions = r.get("disputed_transactions") or [{}]
    payment_ref = _str(transactions[0].get("seller_transaction_id")) or _str(
        r.get("seller_payment_id")
    )
    outcome_code = _str((r.get("dispute_outcome") or {}).get("outcome_code"))
    outcome = DisputeOutcome.OPEN
    if kind == SignalKind.DISPUTE_CLOSED:
        outcome = DisputeOutcome.WON if outcome_code in SELLER_WINS else DisputeOutcome.LOST
    due = _str(r.get("seller_response_due_date"))
    reason = _str(r.get("reason")) or str(r.get("dispute_reason", ""))
    provider_status = _str(r.get("status")) or str(r.get("dispute_status", ""))
    summary = (
        f"Dispute closed: {outcome.label.lower()} ({outcome_code.replace('_', ' ').lower()})"
        if kind == SignalKind.DISPUTE_CLOSED
        else f"Dispute ({reason.replace('_', ' ').lower()}): {provider_status.lower()}"
    )
    return PaymentSignal(
        kind=kind,
        summary=summary,
        payment_ref=payment_ref,
        payment_status=PaymentStatus.DISPUTED,
        dispute=DisputeRef(
            dispute_id=_str(r.get("dispute_id")),
            amount_minor=amount,
            currency=currency,
            reason=reason,
            provider_status=provider_status,
            evidence_due_at=_time(due) if due else None,
            outcome=outcome,
        ),
        **base,
    )


def _amount(value: Obj | None) -> tuple[int | None, str | None]:
    """(minor units, currency) from a v2 {value, currency_code} or v1 {total, currency} amount."""
    if not value:
        return None, None
    currency = _str(value.get("currency_code") or value.get("currency")).upper()
    major = value.get("value", value.get("total"))
    if not currency or major is None:
        return None, None
    return to_minor(str(major), currency), currency


def _captured_id(r: Obj) -> str:
    """A refund names its capture only through its `up` link (…/v2/payments/captures/ID)."""
    for link in r.get("links") or []:
        if link.get("rel") == "up" and "/captures/" in link.get("href", ""):
            return link["href"].rstrip("/").rsplit("/", 1)[-1]
    return ""


def _payer(payer: Obj | None) -> CustomerRef | None:
    if not payer:
        return None
    name = payer.get("name") or {}
    return CustomerRef(
        provider_customer_id=_str(payer.get("payer_id")),
        email=_str(payer.get("email_address")),
        name=" ".join(filter(None, [name.get("given_name"), name.get("surname")])),
    )


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

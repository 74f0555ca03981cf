"""The one internal shape every provider event is turned into.

Adapters (payments/stripe/adapter.py, payments/paypal/adapter.py) produce a PaymentSignal from
provider JSON; the rules (payments/rules.py) see only this, never the provider's payload.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from payments.models import DisputeOutcome, PaymentStatus, Provider, RefundStatus


class SignalKind(StrEnum):
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_PENDING = "payment_pending"
    PAYMENT_REQUIRES_ACTION = "payment_requires_action"
    PAYMENT_CANCELED = "payment_canceled"
    PAYMENT_REFUNDED = "payment_refunded"
    REFUND_UPDATED = "refund_updated"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_UPDATED = "dispute_updated"
    DISPUTE_CLOSED = "dispute_closed"
    FRAUD_WARNING = "fraud_warning"
    OTHER = "other"


@dataclass(frozen=True)
class CustomerRef:
    provider_customer_id: str = ""
    email: str = ""
    name: str = ""


@dataclass(frozen=True)
class DisputeRef:
    dispute_id: str
    amount_minor: int | None = None
    currency: str | None = None
    reason: str = ""
    provider_status: str = ""
    evidence_due_at: datetime | None = None
    outcome: DisputeOutcome = DisputeOutcome.OPEN


@dataclass(frozen=True)
class RefundRef:
    refund_id: str
    status: RefundStatus
    amount_minor: int | None = None
    currency: str | None = None
    failure_reason: str = ""


@dataclass(frozen=True)
class PaymentSignal:
    provider: Provider
    event_id: str
    event_type: str
    occurred_at: datetime
    kind: SignalKind
    summary: str
    payment_ref: str = ""
    charge_ref: str = ""
    amount_minor: int | None = None
    currency: str | None = None
    payment_status: PaymentStatus | None = None
    failure_code: str = ""
    failure_message: str = ""
    customer: CustomerRef | None = None
    dispute: DisputeRef | None = None
    refund: RefundRef | None = None
    refunded_amount_minor: int | None = None

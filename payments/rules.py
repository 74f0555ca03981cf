"""What a payment signal does to tickets. The rules see a PaymentSignal, never provider JSON.

| signal                           | tickets                                                      |
|----------------------------------|--------------------------------------------------------------|
| payment failed                   | open a payment_failed ticket (normal); repeats append to it  |
| dispute opened                   | open an urgent dispute ticket, to be solved by the evidence  |
|                                  | deadline minus DISPUTE_DUE_MARGIN_HOURS                      |
| dispute updated / closed         | append to the dispute ticket; closed records won or lost     |
| refund failed                    | open a high-priority refund_failed ticket                    |
| refund succeeded, charge refunded| append to the payment's (or customer's) open ticket          |
| early fraud warning              | open a high-priority fraud_warning ticket                    |
| payment succeeded after failing  | append "payment recovered" to the open payment_failed ticket |
|                                  | and record the recovered amount                              |
| anything else                    | recorded on the payment's timeline only                      |
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from payments.models import Payment, RefundStatus, WebhookEvent
from payments.money import format_amount
from payments.signal import PaymentSignal, SignalKind
from tickets.models import Channel, EntryKind, Priority, Reason, Ticket
from tickets.services import (
    ticket_add_entry,
    ticket_create,
    ticket_find_open,
    ticket_find_open_for_payment,
    ticket_update,
)


@dataclass(frozen=True)
class OpenTicket:
    """Open (or append to) the ticket for this payment and reason."""

    reason: Reason
    priority: Priority
    subject: str


OPENING_RULES: dict[SignalKind, OpenTicket] = {
    SignalKind.PAYMENT_FAILED: OpenTicket(Reason.PAYMENT_FAILED, Priority.NORMAL, "Payment failed"),
    SignalKind.DISPUTE_OPENED: OpenTicket(Reason.DISPUTE, Priority.URGENT, "Dispute opened"),
    SignalKind.DISPUTE_UPDATED: OpenTicket(Reason.DISPUTE, Priority.URGENT, "Dispute"),
    SignalKind.DISPUTE_CLOSED: OpenTicket(Reason.DISPUTE, Priority.URGENT, "Dispute"),
    SignalKind.FRAUD_WARNING: OpenTicket(Reason.FRAUD_WARNING, Priority.HIGH, "Fraud warning"),
}
REFUND_FAILED = OpenTicket(Reason.REFUND_FAILED, Priority.HIGH, "Refund failed")


def apply(
    *, signal: PaymentSignal, payment: Payment | None, event: WebhookEvent, recovered: bool = False
) -> None:
    """Act on tickets for one signal. The caller holds the payment's row lock; `recovered` says
    this signal made the payment recovered revenue."""
    if payment is None:
        return
    rule = OPENING_RULES.get(signal.kind)
    refund = signal.refund
    if signal.kind == SignalKind.REFUND_UPDATED and refund and refund.status == RefundStatus.FAILED:
        rule = REFUND_FAILED
    if rule is not None:
        _open_or_append(rule, signal, payment, event)
    elif signal.kind in (SignalKind.REFUND_UPDATED, SignalKind.PAYMENT_REFUNDED):
        _append_to_open_ticket(signal, payment, event)
    if recovered:
        _append_recovery(payment)


def _open_or_append(
    rule: OpenTicket, signal: PaymentSignal, payment: Payment, event: WebhookEvent
) -> Ticket:
    due_at = _dispute_due_at(signal)
    ticket = ticket_find_open(payment=payment, reason=rule.reason)
    if ticket is None:
        ticket = ticket_create(
            subject=_subject(rule, payment),
            reason=rule.reason,
            customer=payment.customer,
            priority=rule.priority,
            channel=Channel.WEBHOOK,
            due_at=due_at,
            payments=(payment,),
        )
    elif due_at and due_at != ticket.resolution_deadline:
        # The deadline moved (the provider extended it): the resolution is due by the new one.
        ticket_update(ticket=ticket, actor=None, due_at=due_at)
    _append_event(ticket, signal, payment, event)
    return ticket


def _append_to_open_ticket(signal: PaymentSignal, payment: Payment, event: WebhookEvent) -> None:
    ticket = ticket_find_open_for_payment(payment=payment)
    if ticket is not None:
        _append_event(ticket, signal, payment, event)


def _append_recovery(payment: Payment) -> None:
    ticket = ticket_find_open(payment=payment, reason=Reason.PAYMENT_FAILED)
    if ticket is not None:
        amount = payment.recovered_amount_minor
        ticket_add_entry(
            ticket=ticket,
            kind=EntryKind.PAYMENT_EVENT,
            body=f"Payment recovered: {format_amount(amount, payment.currency)}",
            data={"recovered_amount_minor": amount, "currency": payment.currency},
        )


def _append_event(
    ticket: Ticket, signal: PaymentSignal, payment: Payment, event: WebhookEvent
) -> None:
    ticket.payments.add(payment)
    ticket_add_entry(
        ticket=ticket,
        kind=EntryKind.PAYMENT_EVENT,
        body=signal.summary,
        webhook_event=event,
        data={"event_type": signal.event_type, "kind": signal.kind.value, "payment": payment.pk},
    )


def _subject(rule: OpenTicket, payment: Payment) -> str:
    who = payment.customer.email if payment.customer and payment.customer.email else ""
    amount = format_amount(payment.amount_minor, payment.currency)
    return " · ".join(filter(None, [rule.subject, amount, who]))


def _dispute_due_at(signal: PaymentSignal) -> datetime | None:
    if signal.dispute and signal.dispute.evidence_due_at:
        return signal.dispute.evidence_due_at - timedelta(hours=settings.DISPUTE_DUE_MARGIN_HOURS)
    return None

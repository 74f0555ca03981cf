"""Canned responses: the placeholders they may hold and how they are filled in for a ticket."""

import re
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from payments.decline_reasons import decline_reason_in_words
from payments.models import Payment
from tickets.formatting import money
from tickets.models import CannedResponse, Ticket

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _first_payment(ticket: Ticket) -> Payment | None:
    payments = list(ticket.payments.all())
    return payments[0] if payments else None


def _customer_name(ticket: Ticket, agent: AbstractBaseUser) -> str:
    if ticket.customer and ticket.customer.name:
        return ticket.customer.name
    return str(_("there"))


def _amount(ticket: Ticket, agent: AbstractBaseUser) -> str:
    payment = _first_payment(ticket)
    return money(payment.amount_minor, payment.currency) if payment else ""


def _decline_reason(ticket: Ticket, agent: AbstractBaseUser) -> str:
    payment = _first_payment(ticket)
    if payment is None:
        return ""
    return str(decline_reason_in_words(payment.failure_code, payment.failure_message))


def _payment_id(ticket: Ticket, agent: AbstractBaseUser) -> str:
    payment = _first_payment(ticket)
    return payment.provider_payment_id if payment else ""


def _agent_name(ticket: Ticket, agent: AbstractBaseUser) -> str:
    return agent.get_full_name() or agent.get_username()


PLACEHOLDERS: dict[str, tuple[str, Callable[[Ticket, AbstractBaseUser], str]]] = {
    "customer_name": (_("The customer's name"), _customer_name),
    "customer_email": (
        _("The customer's email"),
        lambda ticket, agent: ticket.customer.email if ticket.customer else "",
    ),
    "amount": (_("The payment's amount, with its currency"), _amount),
    "decline_reason": (_("Why the payment failed, in words"), _decline_reason),
    "payment_id": (_("The provider's payment id"), _payment_id),
    "ticket_id": (_("The ticket number"), lambda ticket, agent: str(ticket.pk)),
    "agent_name": (_("Your name"), _agent_name),
}


def canned_response_render(
    *, response: CannedResponse, ticket: Ticket, agent: AbstractBaseUser
) -> str:
    """The response's text for this ticket. Unknown placeholders are left as written, so a typo
    shows up in the reply box instead of vanishing."""

    def fill(match: re.Match[str]) -> str:
        placeholder = PLACEHOLDERS.get(match.group(1))
        return placeholder[1](ticket, agent) if placeholder else match.group(0)

    return _PLACEHOLDER.sub(fill, response.body)


def canned_response_list(*, language: str, q: str = "") -> QuerySet[CannedResponse]:
    responses = CannedResponse.objects.filter(Q(language="") | Q(language=language))
    if q := q.strip():
        responses = responses.filter(Q(title__icontains=q) | Q(body__icontains=q))
    return responses

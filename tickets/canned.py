"""Canned responses: the placeholders they may hold and how they are filled in for a ticket."""

import re

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.selectors import display_name
from payments.decline_reasons import decline_reason_in_words
from tickets.formatting import money
from tickets.models import CannedResponse, Ticket

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

# Name -> what it stands for (shown to whoever writes canned responses in the admin).
PLACEHOLDERS = {
    "customer_name": _("The customer's name"),
    "customer_email": _("The customer's email"),
    "amount": _("The payment's amount, with its currency"),
    "decline_reason": _("Why the payment failed, in words"),
    "payment_id": _("The provider's payment id"),
    "ticket_id": _("The ticket number"),
    "agent_name": _("Your name"),
}


def placeholder_values(*, ticket: Ticket, agent: AbstractBaseUser) -> dict[str, str]:
    """What each placeholder says for this ticket and agent: worked out once, then used by every
    response in a list."""
    customer = ticket.customer
    payment = ticket.payments.order_by("pk").first()
    return {
        "customer_name": (customer.name if customer else "") or str(_("there")),
        "customer_email": customer.email if customer else "",
        "amount": money(payment.amount_minor, payment.currency) if payment else "",
        "decline_reason": (
            str(decline_reason_in_words(payment.failure_code, payment.failure_message))
            if payment
            else ""
        ),
        "payment_id": payment.provider_payment_id if payment else "",
        "ticket_id": str(ticket.pk),
        "agent_name": display_name(agent),
    }


def canned_response_render(*, response: CannedResponse, values: dict[str, str]) -> str:
    """The response's text with its placeholders filled in from `values`. Unknown placeholders
    are left as written, so a typo shows up in the reply box instead of vanishing."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), response.body)


def canned_response_list(*, language: str, q: str = "") -> QuerySet[CannedResponse]:
    responses = CannedResponse.objects.filter(Q(language="") | Q(language=language))
    if q := q.strip():
        responses = responses.filter(Q(title__icontains=q) | Q(body__icontains=q))
    return responses

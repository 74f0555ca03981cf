"""Email that leaves a ticket: an agent's reply goes to the customer."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from tickets.models import EntryKind, TimelineEntry

logger = logging.getLogger(__name__)


def reply_email_send(*, entry: TimelineEntry) -> bool:
    """Email an agent's reply to the ticket's customer, in the customer's language.
    Returns False when there is nobody to send it to."""
    ticket = entry.ticket
    customer = ticket.customer
    if entry.kind != EntryKind.AGENT_REPLY or customer is None or not customer.email:
        return False
    language = customer.locale if customer.locale in dict(settings.LANGUAGES) else "en"
    with translation.override(language):
        context = {"entry": entry, "ticket": ticket, "customer": customer}
        # One line: a header with a line break in it is refused.
        subject = " ".join(render_to_string("tickets/email/reply_subject.txt", context).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("tickets/email/reply.txt", context),
            to=[customer.email],
            headers={"X-Paydesk-Ticket": str(ticket.pk)},
        )
        html = render_to_string("tickets/email/reply.html", context)
        message.attach_alternative(html, "text/html")
    message.send()
    logger.info("Emailed reply %s on ticket %s", entry.pk, ticket.pk)
    return True

"""What a notification says, worked out when it is shown or sent, in the active language.

A notification stores the facts (ticket number, subject, due time …) in its `context` when it is
written; the words come from here, so one notice reads in Greek to a Greek agent and in Persian
to a Persian one."""

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from notifications.models import Kind, Notification
from payments.decline_reasons import decline_reason_in_words
from payments.models import Payment
from tickets.formatting import money

RATING_SALT = "notifications.rating"


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def rating_token(ticket_id: int) -> str:
    return signing.dumps(ticket_id, salt=RATING_SALT)


def rating_ticket_id(token: str) -> int | None:
    try:
        value = signing.loads(
            token, salt=RATING_SALT, max_age=settings.CSAT_LINK_MAX_AGE_DAYS * 86400
        )
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def link(notification: Notification) -> str:
    if notification.ticket_id:
        return absolute_url(reverse("tickets:detail", args=[notification.ticket_id]))
    return absolute_url(reverse("notifications:list"))


def _when(value: str | None) -> str:
    moment = parse_datetime(value) if value else None
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _day(value: str | None) -> str:
    """An ISO date ("2026-12-03") written the way the active language writes dates."""
    try:
        return formats.date_format(date.fromisoformat(value or ""), "DATE_FORMAT")
    except ValueError:
        return value or ""


def headline(notification: Notification) -> str:
    """One line, for the bell, the notifications page and the email subject."""
    c = notification.context
    facts = {"number": c.get("number", notification.ticket_id), "subject": c.get("subject", "")}
    kind = notification.kind
    if kind == Kind.TICKET_ASSIGNED:
        return _("Ticket #%(number)s was assigned to you: %(subject)s") % facts
    if kind == Kind.CUSTOMER_REPLIED:
        return _("%(customer)s replied on ticket #%(number)s: %(subject)s") % {
            **facts,
            "customer": c.get("customer") or _("The customer"),
        }
    if kind == Kind.URGENT_TICKET:
        if c.get("reason") == "dispute":
            return _("New dispute in %(team)s: #%(number)s %(subject)s") % {
                **facts,
                "team": c.get("team", ""),
            }
        return _("New urgent ticket in %(team)s: #%(number)s %(subject)s") % {
            **facts,
            "team": c.get("team", ""),
        }
    if kind == Kind.SLA_WARNING:
        if c.get("target") == "resolution":
            text = _("Ticket #%(number)s must be solved by %(due)s: %(subject)s")
        else:
            text = _("Ticket #%(number)s must be answered by %(due)s: %(subject)s")
        return text % {**facts, "due": _when(c.get("due_at"))}
    if kind == Kind.SLA_BREACHED:
        if c.get("target") == "resolution":
            text = _("Ticket #%(number)s breached its resolution target (due %(due)s): %(subject)s")
        else:
            text = _(
                "Ticket #%(number)s breached its first-response target (due %(due)s): %(subject)s"
            )
        return text % {**facts, "due": _when(c.get("due_at"))}
    if kind == Kind.DISPUTE_DEADLINE_72H:
        return _("Dispute evidence for #%(number)s is due within 72 hours (%(due)s)") % {
            **facts,
            "due": _when(c.get("due_at")),
        }
    if kind == Kind.DISPUTE_DEADLINE_24H:
        return _("Dispute evidence for #%(number)s is due within 24 hours (%(due)s)") % {
            **facts,
            "due": _when(c.get("due_at")),
        }
    if kind == Kind.DAILY_DIGEST:
        return _("Paydesk daily digest for %(day)s") % {"day": _day(c.get("day"))}
    return str(notification.get_kind_display())


def customer_context(notification: Notification) -> dict[str, Any]:
    """The placeholders of a customer email (the admin's preview lists the same names)."""
    c = notification.context
    customer = notification.customer
    ticket = notification.ticket
    context: dict[str, Any] = {
        "customer_name": (customer.name if customer else "") or _("there"),
        "ticket_number": notification.ticket_id or "",
        "ticket_subject": ticket.subject if ticket else "",
        "link": settings.CUSTOMER_RETURN_URL,
        "site_name": settings.SITE_NAME,
    }
    if notification.kind == Kind.PAYMENT_FAILED:
        payment = Payment.objects.filter(pk=c.get("payment")).first()
        if payment is not None:
            context["amount"] = money(payment.amount_minor, payment.currency)
            context["decline_reason"] = decline_reason_in_words(
                payment.failure_code, payment.failure_message
            )
    elif notification.kind == Kind.AGENT_REPLIED:
        context["body"] = c.get("body", "")
        context["agent_name"] = c.get("agent", "")
    elif notification.kind == Kind.TICKET_SOLVED and ticket is not None:
        context["rating_link"] = absolute_url(
            reverse("notifications:rate", args=[rating_token(ticket.pk)])
        )
    elif notification.kind == Kind.CHAT_TRANSCRIPT:
        context["transcript"] = _transcript(c.get("conversation"))
    return context


def _transcript(conversation_id: int | None) -> str:
    from chat.models import ChatMessage

    messages = (
        ChatMessage.objects.filter(conversation_id=conversation_id)
        .select_related("author", "attachment", "article")
        .order_by("seq")
    )
    return render_to_string("notifications/customer/transcript_lines.txt", {"messages": messages})


KIND_PLACEHOLDERS = {
    Kind.PAYMENT_FAILED: ("amount", "decline_reason"),
    Kind.AGENT_REPLIED: ("body", "agent_name"),
    Kind.TICKET_SOLVED: ("rating_link",),
    Kind.CHAT_TRANSCRIPT: ("transcript",),
}


def sample_customer_context(kind: str) -> dict[str, Any]:
    """Made-up values for the admin's preview of a customer email: the placeholders every
    customer email has, and those of its kind."""
    common = {
        "customer_name": "Ana Souza",
        "ticket_number": 1042,
        "ticket_subject": _("Payment failed · €49.00"),
        "link": settings.CUSTOMER_RETURN_URL or "https://shop.example.com/checkout",
        "site_name": settings.SITE_NAME,
    }
    specific = {
        "amount": money(4900, "EUR"),
        "decline_reason": decline_reason_in_words("insufficient_funds"),
        "body": _("Your card was declined for lack of funds. You can try again or use PayPal."),
        "agent_name": "Sam Rivera",
        "rating_link": absolute_url("/rate/…/"),
        "transcript": "[2026-12-04 10:02] Ana: …\n[2026-12-04 10:03] Sam Rivera: …",
    }
    return {**common, **{key: specific[key] for key in KIND_PLACEHOLDERS.get(kind, ())}}


def digest_context(notification: Notification) -> dict[str, Any]:
    c = notification.context
    recovered = [money(amount, currency) for currency, amount in c.get("recovered", {}).items()]
    disputes = [
        {
            "payment": dispute["payment"],
            "amount_text": money(dispute["amount"], dispute["currency"]),
            "due_text": _when(dispute["due_at"]),
        }
        for dispute in c.get("disputes_due", [])
    ]
    return {
        "day": _day(c.get("day")),
        "opened": c.get("opened", 0),
        "solved": c.get("solved", 0),
        "breached": c.get("breached", 0),
        "disputes_due": disputes,
        "recovered": recovered,
        "recovered_count": c.get("recovered_count", 0),
        "link": absolute_url(reverse("tickets:queue")),
    }


def iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""

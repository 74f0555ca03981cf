"""Template helpers of the workspace: amounts, due times and failure reasons as agents read them."""

from datetime import datetime
from functools import cache

from django import template
from django.db.models import TextChoices
from django.utils.html import format_html
from django.utils.translation import get_language, override

from payments.decline_reasons import decline_reason_in_words
from payments.models import Payment, PaymentStatus
from tickets.formatting import due_in_words, money
from tickets.models import Priority, Reason, Status

register = template.Library()


@register.simple_tag
def amount(amount_minor: int | None, currency: str | None) -> str:
    return money(amount_minor, currency)


@register.simple_tag
def due(due_at: datetime | None) -> str:
    """The time left until `due_at`, red (with the word "overdue") once it has passed."""
    if due_at is None:
        return ""
    words, breached = due_in_words(due_at)
    return format_html(
        '<time class="due{}" datetime="{}">{}</time>',
        " due-breached" if breached else "",
        due_at.isoformat(),
        words,
    )


@register.filter
def failure_reason(payment: Payment) -> str:
    return str(decline_reason_in_words(payment.failure_code, payment.failure_message))


@register.filter
def words(code: str) -> str:
    """A provider's code in words: "MERCHANDISE_OR_SERVICE_NOT_RECEIVED" -> "Merchandise or
    service not received"."""
    text = (code or "").replace("_", " ").strip().lower()
    return text[:1].upper() + text[1:]


_CHOICES: dict[str, type[TextChoices]] = {
    "status": Status,
    "priority": Priority,
    "reason": Reason,
    "payment_status": PaymentStatus,
}


@cache
def _labels(kind: str, language: str) -> dict[str, str]:
    with override(language):
        return {value: str(label) for value, label in _CHOICES[kind].choices}


@register.filter
def label(value: str, kind: str) -> str:
    """A choice's label in the active language: `{{ ticket.status|label:"status" }}`. The queue
    shows four per row; looked up once per language instead of translated every time."""
    return _labels(kind, get_language() or "en").get(value, value)

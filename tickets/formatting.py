"""Amounts and due times as an agent reads them, in the active language."""

from datetime import datetime
from decimal import Decimal

from babel.numbers import format_currency
from django.utils import timezone, translation
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from payments.money import exponent


def _babel_locale() -> str:
    return translation.to_locale(translation.get_language() or "en")


def money(amount_minor: int | None, currency: str | None) -> str:
    """4900, "USD" -> "$49.00" in English, "49,00 $" in Greek, Persian digits in Persian."""
    if amount_minor is None or not currency:
        return ""
    major = Decimal(amount_minor) / (10 ** exponent(currency))
    return format_currency(major, currency.upper(), locale=_babel_locale())


def due_in_words(due_at: datetime | None, now: datetime | None = None) -> tuple[str, bool]:
    """("in 3 hours", False) before the due time, ("2 hours overdue", True) after it."""
    if due_at is None:
        return "", False
    now = now or timezone.now()
    if due_at <= now:
        return _("%(duration)s overdue") % {"duration": timesince(due_at, now, depth=1)}, True
    return _("in %(duration)s") % {"duration": timeuntil(due_at, now, depth=1)}, False

"""Amounts and due times as an agent reads them, in the active language."""

from datetime import datetime
from decimal import Decimal

from babel.numbers import format_currency
from django.utils import timezone, translation
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from payments.money import exponent

# Django's own units, which its Greek catalogue leaves untranslated; locale/ translates them.
TIME_STRINGS = {
    "year": ngettext_lazy("%(num)d year", "%(num)d years", "num"),
    "month": ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    "week": ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
    "day": ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    "hour": ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    "minute": ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
}


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
        return _("%(duration)s overdue") % {
            "duration": timesince(due_at, now, time_strings=TIME_STRINGS, depth=1)
        }, True
    return _("in %(duration)s") % {
        "duration": timeuntil(due_at, now, time_strings=TIME_STRINGS, depth=1)
    }, False

"""Figures as a person reads them in the active language; CSV keeps the plain values."""

from datetime import date, timedelta

from babel.numbers import format_decimal, format_percent
from django.utils import formats, timezone, translation
from django.utils.timesince import timesince

from tickets.formatting import TIME_STRINGS


def _babel_locale() -> str:
    return translation.to_locale(translation.get_language() or "en")


def number(value: float | None) -> str:
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0.#", locale=_babel_locale())


def percent(value: float | None) -> str:
    """0.456 -> "45.6%" ("45,6%" in Greek); a dash without a value."""
    if value is None:
        return "–"
    return format_percent(value, format="#,##0.#%", locale=_babel_locale())


def change(value: float | None) -> str:
    """A change against the previous period: "+12.5%", "−3%"."""
    if value is None:
        return ""
    sign = "+" if value > 0 else ""
    return sign + percent(value)


def duration(value: timedelta | None) -> str:
    """ "1 hour, 5 minutes", in the active language."""
    if value is None:
        return "–"
    now = timezone.now()
    return timesince(now - value, now, time_strings=TIME_STRINGS, depth=2)


def minutes(value: timedelta | None) -> float | None:
    """A duration for CSV: minutes, to one decimal."""
    return None if value is None else round(value.total_seconds() / 60, 1)


def day(value: date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")

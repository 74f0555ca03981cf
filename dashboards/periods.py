"""The stretch of time a dashboard reports on, and the one it is compared with."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone


@dataclass(frozen=True)
class Period:
    """Whole days [first_day, last_day] in the reporting time zone (the current one): from the
    first day's midnight up to the midnight after the last day."""

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return _midnight(self.first_day)

    @property
    def end(self) -> datetime:
        return _midnight(self.last_day + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.length)]

    @property
    def length(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def previous(self) -> "Period":
        """The as many days just before."""
        last = self.first_day - timedelta(days=1)
        return Period(last - timedelta(days=self.length - 1), last)


def next_month(first: date) -> date:
    """The first day of the month after the one starting on `first`."""
    return (first + timedelta(days=31)).replace(day=1)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def last_days(count: int, *, today: date | None = None) -> Period:
    """The `count` days up to and including today."""
    today = today or timezone.localdate()
    return Period(today - timedelta(days=count - 1), today)


def change(current: float | None, previous: float | None) -> float | None:
    """How much `current` moved from `previous`, as a fraction (0.25: a quarter more); None when
    there is nothing to compare with."""
    if current is None or not previous:
        return None
    return (current - previous) / previous

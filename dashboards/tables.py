"""The dashboard's tables, defined once for the page and for their CSV export.

A cell holds the plain value (what the CSV writes: ISO dates, minutes, fractions, amounts in
major units), the text the page shows in the active language, and the address of the tickets
behind it in the queue.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.selectors import display_name
from dashboards import formatting, histograms
from dashboards.metrics import Dashboard, Filters, Ratings
from dashboards.periods import Period, change
from payments.decline_reasons import decline_reason_in_words
from payments.models import Provider
from payments.money import exponent
from tickets.formatting import money
from tickets.models import Channel, Reason


@dataclass(frozen=True)
class Cell:
    value: Any
    text: str
    url: str = ""


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    # Headers of the CSV when they say more than the page's (a unit).
    csv_columns: list[str] = field(default_factory=list)
    note: str = ""

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.csv_columns or self.columns)
        for row in self.rows:
            writer.writerow([_spreadsheet_safe(cell.value) for cell in row])
        return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value):
    """A customer's comment that starts like a formula ("=HYPERLINK(…)") is text in a
    spreadsheet too: quote it. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        try:
            Decimal(value)
        except ArithmeticError:
            return "'" + value
    return value


def count(value: int | None, url: str = "") -> Cell:
    return Cell(value, formatting.number(value), url)


def ratio(value: float | None) -> Cell:
    return Cell(None if value is None else round(value, 4), formatting.percent(value))


def took(value) -> Cell:
    return Cell(formatting.minutes(value), formatting.duration(value))


def amount(minor: int, currency: str) -> Cell:
    major = Decimal(minor) / (10 ** exponent(currency))
    return Cell(f"{major:.{exponent(currency)}f}", money(minor, currency))


def text(value: str, url: str = "") -> Cell:
    return Cell(value, value, url)


def on_day(value: date, url: str = "") -> Cell:
    return Cell(value.isoformat(), formatting.day(value), url)


class QueueLinks:
    """Addresses of the queue showing the tickets behind a figure, under the same filters."""

    def __init__(self, period: Period, filters: Filters) -> None:
        self.period = period
        self.base = {
            "team": filters.team_id or "",
            "provider": filters.provider,
            "channel": filters.channel,
            "reason": filters.reason,
            "assignee": filters.assignee_id or "",
        }

    def url(self, **params: Any) -> str:
        query = {name: value for name, value in {**self.base, **params}.items() if value}
        return reverse("tickets:queue") + ("?" + urlencode(query) if query else "")

    def opened(self, first: date | None = None, last: date | None = None, **params: Any) -> str:
        first, last = first or self.period.first_day, last or self.period.last_day
        return self.url(created_after=first.isoformat(), created_before=last.isoformat(), **params)

    def solved(self, first: date | None = None, last: date | None = None, **params: Any) -> str:
        first, last = first or self.period.first_day, last or self.period.last_day
        return self.url(solved_after=first.isoformat(), solved_before=last.isoformat(), **params)


# Every table dashboard_tables makes, by name: a CSV link names one of them.
TABLE_NAMES = frozenset({
    "volume", "reasons", "channels", "speed", "sla", "providers", "declines", "disputes",
    "open_disputes", "refunds", "recovered", "recovered_payments", "satisfaction", "comments",
    "agents",
})  # fmt: skip


def dashboard_tables(figures: Dashboard) -> dict[str, Table]:
    """Every table of the page, by name (the `table` of the CSV export)."""
    links = QueueLinks(figures.period, figures.filters)
    tables = [
        *_volume_tables(figures, links),
        _speed_table(figures, links),
        _sla_table(figures, links),
        *_payment_tables(figures, links),
        *_recovered_tables(figures, links),
        *_satisfaction_tables(figures),
        _agents_table(figures, links),
    ]
    return {table.name: table for table in tables}


def _volume_tables(figures: Dashboard, links: QueueLinks) -> list[Table]:
    volume = figures.volume
    opened, solved = volume.per_day("opened"), volume.per_day("solved")
    per_day = Table(
        "volume",
        _("Tickets per day"),
        [_("Day"), _("Opened"), _("Solved")],
        [
            [
                on_day(day),
                count(opened[day], links.opened(day, day)),
                count(solved[day], links.solved(day, day)),
            ]
            for day in volume.days
        ],
    )
    tables = [per_day]
    for name, title, dimension, choices in (
        ("reasons", _("Tickets by reason"), "reason", Reason),
        ("channels", _("Tickets by channel"), "channel", Channel),
    ):
        opened_by, solved_by = volume.per("opened", dimension), volume.per("solved", dimension)
        tables.append(
            Table(
                name,
                title,
                [_("Reason") if dimension == "reason" else _("Channel"), _("Opened"), _("Solved")],
                [
                    [
                        text(str(choice.label)),
                        count(opened_by.get(choice, 0), links.opened(**{dimension: choice})),
                        count(solved_by.get(choice, 0), links.solved(**{dimension: choice})),
                    ]
                    for choice in choices
                ],
            )
        )
    return tables


def _speed_table(figures: Dashboard, links: QueueLinks) -> Table:
    speed = figures.speed
    columns = [
        _("Measure"),
        _("Median"),
        _("90th percentile"),
        _("Median, previous period"),
        _("90th percentile, previous period"),
    ]
    rows = []
    for measure, label, url in (
        ("first_response", _("First response"), links.opened()),
        ("resolution", _("Resolution"), links.solved()),
    ):
        rows.append(
            [
                text(label, url),
                took(speed.get(measure, "current", 0.5)),
                took(speed.get(measure, "current", 0.9)),
                took(speed.get(measure, "previous", 0.5)),
                took(speed.get(measure, "previous", 0.9)),
            ]
        )
    return Table(
        "speed",
        _("Speed"),
        columns,
        rows,
        csv_columns=[columns[0], *(_("%(column)s (minutes)") % {"column": c} for c in columns[1:])],
        note=_rollup_note(figures),
    )


def _rollup_note(figures: Dashboard) -> str:
    if not figures.speed.approximate:
        return ""
    return _("Days rolled up overnight are read from their rollups: times within %(error)s.") % {
        "error": formatting.percent(histograms.GROWTH - 1)
    }


def _sla_table(figures: Dashboard, links: QueueLinks) -> Table:
    sla = figures.sla
    breaching = links.url(view="breaching")
    return Table(
        "sla",
        _("Service levels"),
        [_("Figure"), _("This period"), _("Previous period")],
        [
            [text(_("Targets met")), ratio(sla.compliance), ratio(sla.compliance_previous)],
            [text(_("Targets decided")), count(sla.decided), count(sla.decided_previous)],
            [text(_("Breached now"), breaching), count(sla.breached_now, breaching), text("")],
            [text(_("Breaching soon"), breaching), count(sla.breaching_soon, breaching), text("")],
        ],
    )


def _payment_tables(figures: Dashboard, links: QueueLinks) -> list[Table]:
    payments = figures.payments
    failed_tickets = {"reason": Reason.PAYMENT_FAILED}
    providers = Table(
        "providers",
        _("Payment failures by provider"),
        [
            _("Provider"),
            _("Payments"),
            _("Failed"),
            _("Failure rate"),
            _("Failure rate, previous period"),
        ],
        [
            [
                text(str(Provider(row.provider).label)),
                count(row.payments),
                count(row.failed, links.opened(provider=row.provider, **failed_tickets)),
                ratio(row.rate),
                ratio(row.rate_previous),
            ]
            for row in payments.by_provider
        ],
    )
    declines = Table(
        "declines",
        _("Payment failures by decline reason"),
        [_("Decline reason"), _("Code"), _("Failed"), _("Share of payments")],
        [
            [
                text(decline_reason_in_words(row.code) or _("No reason given")),
                text(row.code),
                count(row.failed, links.opened(**failed_tickets)),
                ratio(row.rate),
            ]
            for row in payments.by_decline_code
        ],
    )
    disputes_url = links.url(view="disputes")
    disputes = Table(
        "disputes",
        _("Disputes"),
        [_("Currency"), _("Open"), _("At stake"), _("Won"), _("Won amount"), _("Lost"),
         _("Lost amount")],
        [
            [
                text(row.currency),
                count(row.open, disputes_url),
                amount(row.at_stake_minor, row.currency),
                count(row.won),
                amount(row.won_minor, row.currency),
                count(row.lost),
                amount(row.lost_minor, row.currency),
            ]
            for row in payments.disputes
        ],
    )  # fmt: skip
    open_disputes = Table(
        "open_disputes",
        _("Open disputes, soonest deadline first"),
        [_("Payment"), _("Amount"), _("Evidence due")],
        [
            [
                text(
                    dispute.payment.provider_payment_id,
                    links.url(q=dispute.payment.provider_payment_id, reason=Reason.DISPUTE),
                ),
                amount(dispute.amount_minor, dispute.currency),
                _moment(dispute.evidence_due_at),
            ]
            for dispute in payments.open_disputes
        ],
    )
    refunds_url = links.opened(reason=Reason.REFUND_FAILED)
    refunds = Table(
        "refunds",
        _("Failed refunds"),
        [_("Currency"), _("Failed refunds"), _("Amount"), _("Failed refunds, previous period")],
        [
            [
                text(row.currency),
                count(row.count, refunds_url),
                amount(row.amount_minor, row.currency),
                count(row.count_previous),
            ]
            for row in payments.refunds_failed
        ],
    )
    return [providers, declines, disputes, open_disputes, refunds]


def _moment(value) -> Cell:
    if value is None:
        return Cell(None, "–")
    local = timezone.localtime(value)
    return Cell(local.isoformat(), formats.date_format(local, "SHORT_DATETIME_FORMAT"))


def _recovered_tables(figures: Dashboard, links: QueueLinks) -> list[Table]:
    recovered = figures.recovered
    by_currency = Table(
        "recovered",
        _("Recovered revenue"),
        [
            _("Currency"),
            _("Payments recovered"),
            _("Amount recovered"),
            _("Payments recovered, previous period"),
            _("Amount recovered, previous period"),
        ],
        [
            [
                text(row.currency),
                count(row.count),
                amount(row.amount_minor, row.currency),
                count(row.count_previous),
                amount(row.amount_minor_previous, row.currency),
            ]
            for row in recovered.by_currency
        ],
    )
    latest = Table(
        "recovered_payments",
        _("Latest payments recovered"),
        [_("Payment"), _("Amount"), _("Failed"), _("Recovered")],
        [
            [
                text(payment.provider_payment_id, links.url(q=payment.provider_payment_id)),
                amount(payment.recovered_amount_minor or 0, payment.currency),
                _moment(payment.failed_at),
                _moment(payment.recovered_at),
            ]
            for payment in recovered.latest
        ],
    )
    return [by_currency, latest]


def _ratings_row(label: str, current: Ratings, previous: Ratings) -> list[Cell]:
    return [
        text(label),
        count(current.count),
        ratio(current.csat),
        Cell(
            None if current.mean is None else round(current.mean, 2),
            formatting.number(None if current.mean is None else round(current.mean, 1)),
        ),
        count(current.surveys),
        ratio(current.response_rate),
        ratio(previous.csat),
    ]


def _satisfaction_tables(figures: Dashboard) -> list[Table]:
    satisfaction = figures.satisfaction
    scores = Table(
        "satisfaction",
        _("Satisfaction"),
        [
            _("Source"),
            _("Ratings"),
            _("CSAT (4 or 5)"),
            _("Mean rating"),
            _("Surveys offered"),
            _("Response rate"),
            _("CSAT, previous period"),
        ],
        [
            _ratings_row(_("Ticket surveys"), satisfaction.tickets, satisfaction.tickets_previous),
            _ratings_row(_("Chat ratings"), satisfaction.chats, satisfaction.chats_previous),
            _ratings_row(_("Both"), satisfaction.combined, satisfaction.combined_previous),
        ],
    )
    sources = {"ticket": _("Ticket survey"), "chat": _("Chat")}
    comments = Table(
        "comments",
        _("Latest comments"),
        [_("When"), _("Ticket"), _("Source"), _("Rating"), _("Comment")],
        [
            [
                _moment(comment.at),
                Cell(
                    comment.ticket_id,
                    f"#{comment.ticket_id}",
                    reverse("tickets:detail", args=[comment.ticket_id]),
                ),
                text(str(sources[comment.source])),
                count(comment.rating),
                text(comment.text),
            ]
            for comment in satisfaction.comments
        ],
    )
    return [scores, comments]


def _agents_table(figures: Dashboard, links: QueueLinks) -> Table:
    columns = [
        _("Agent"),
        _("Tickets solved"),
        _("Median first response"),
        _("CSAT (4 or 5)"),
        _("Ratings"),
        _("Chats handled"),
    ]
    csv_columns = list(columns)
    csv_columns[2] = _("%(column)s (minutes)") % {"column": columns[2]}
    return Table(
        "agents",
        _("Agents"),
        columns,
        [
            [
                text(display_name(row.agent)),
                count(row.solved, links.solved(assignee=row.agent.pk)),
                took(row.median_first_response),
                ratio(row.ratings.csat),
                count(row.ratings.count),
                count(row.chats_handled),
            ]
            for row in figures.agents
        ],
        csv_columns=csv_columns,
        note=_rollup_note(figures),
    )


@dataclass(frozen=True)
class Headline:
    """One figure at the top of the page, with the previous period's beside it."""

    name: str
    label: str
    value: str
    previous: str
    change: str = ""
    url: str = ""
    note: str = ""


def _amounts(rows, attribute: str) -> str:
    parts = [
        money(getattr(row, attribute), row.currency) for row in rows if getattr(row, attribute)
    ]
    return " · ".join(parts) or formatting.number(0)


def headlines(figures: Dashboard) -> list[Headline]:
    links = QueueLinks(figures.period, figures.filters)
    volume, speed, sla = figures.volume, figures.speed, figures.sla
    payments, recovered = figures.payments, figures.recovered
    satisfaction = figures.satisfaction.combined
    satisfaction_before = figures.satisfaction.combined_previous

    def timed(measure: str, which: str) -> str:
        return formatting.duration(speed.get(measure, which, 0.5))

    return [
        Headline(
            "opened",
            _("Tickets opened"),
            formatting.number(volume.opened),
            formatting.number(volume.opened_previous),
            formatting.change(change(volume.opened, volume.opened_previous)),
            links.opened(),
        ),
        Headline(
            "solved",
            _("Tickets solved"),
            formatting.number(volume.solved),
            formatting.number(volume.solved_previous),
            formatting.change(change(volume.solved, volume.solved_previous)),
            links.solved(),
        ),
        Headline(
            "first_response",
            _("Median first response"),
            timed("first_response", "current"),
            timed("first_response", "previous"),
        ),
        Headline(
            "sla",
            _("SLA targets met"),
            formatting.percent(sla.compliance),
            formatting.percent(sla.compliance_previous),
        ),
        Headline(
            "failure_rate",
            _("Payment failure rate"),
            formatting.percent(payments.failure_rate),
            formatting.percent(payments.failure_rate_previous),
        ),
        Headline(
            "recovered",
            _("Recovered revenue"),
            _amounts(recovered.by_currency, "amount_minor"),
            _amounts(recovered.by_currency, "amount_minor_previous"),
            note=_("%(share)s of failed payments")
            % {"share": formatting.percent(recovered.share_of_failed)},
        ),
        Headline(
            "csat",
            _("CSAT"),
            formatting.percent(satisfaction.csat),
            formatting.percent(satisfaction_before.csat),
        ),
        Headline(
            "response_rate",
            _("Survey response rate"),
            formatting.percent(satisfaction.response_rate),
            formatting.percent(satisfaction_before.response_rate),
        ),
    ]

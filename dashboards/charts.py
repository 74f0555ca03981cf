"""What the page draws: each chart is one of its tables seen as bars (Chart.js data)."""

from typing import Any

from django.utils.translation import gettext as _

from dashboards.tables import Table


def _bars(table: Table, columns: list[int], *, kind: str = "bar", **options: Any) -> dict:
    return {
        "type": kind,
        "title": table.title,
        "labels": [row[0].text for row in table.rows],
        "datasets": [
            {"label": table.columns[index], "data": [row[index].value or 0 for row in table.rows]}
            for index in columns
        ],
        **options,
    }


def dashboard_charts(tables: dict[str, Table]) -> dict[str, dict]:
    """Charts by the name of the table they draw; the table stays under each one."""
    declines = tables["declines"]
    return {
        "volume": _bars(tables["volume"], [1, 2]),
        "reasons": _bars(tables["reasons"], [1, 2], horizontal=True),
        "channels": _bars(tables["channels"], [1, 2], horizontal=True),
        "declines": {
            **_bars(declines, [2], horizontal=True),
            # The codes are shorter than the sentences, and read the same in every language.
            "labels": [row[1].text or _("No reason given") for row in declines.rows],
        },
        "agents": _bars(tables["agents"], [1, 5]),
    }

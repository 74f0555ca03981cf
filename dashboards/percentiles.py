"""Percentiles computed by the database, grouped by any expression.

PostgreSQL has `percentile_cont`. SQLite has no percentile function, so there the rows are
numbered in order by a window function inside the query and only the (at most two) rows around
each wanted rank come back, per group; Python interpolates between those two, exactly as
`percentile_cont` does. Either way a group costs a couple of rows, never all of its values.
"""

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

from django.db import connections
from django.db.models import (
    Aggregate,
    Count,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import Cast, RowNumber


class PercentileCont(Aggregate):
    """`percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)` (PostgreSQL only)."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        _check(fraction)
        # A float we checked, written into the SQL: percentile_cont wants a constant here.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentiles(
    values: QuerySet,
    *,
    of: Expression,
    fractions: Sequence[float],
    group: Expression | F | None = None,
) -> dict[Hashable, dict[float, Any]]:
    """{group value: {fraction: percentile}} of the non-null `of` over `values`, per `group`
    (None: one group, keyed None). `of` may be a number or a duration; groups without any value
    are missing from the answer. One query."""
    for fraction in fractions:
        _check(fraction)
    values = values.order_by().annotate(_value=of).filter(_value__isnull=False)
    values = values.annotate(
        _group=group if group is not None else Value(None, output_field=IntegerField())
    )
    if connections[values.db].vendor == "postgresql":
        return _percentiles_in_postgresql(values, of, fractions)
    return _percentiles_by_row_number(values, fractions)


def _percentiles_in_postgresql(values, of, fractions):
    aggregates = {
        f"p{index}": PercentileCont(F("_value"), fraction, output_field=of.output_field)
        for index, fraction in enumerate(fractions)
    }
    rows = values.values("_group").annotate(**aggregates, _count=Count("*"))
    # Without a group, the database answers one row of nulls for no rows at all.
    return {
        row["_group"]: {fraction: row[f"p{index}"] for index, fraction in enumerate(fractions)}
        for row in rows
        if row["_count"]
    }


def _percentiles_by_row_number(values, fractions):
    """Rows numbered from 0 in each group; keep those at floor(p·(n−1)) and the next one."""
    by_group = {"partition_by": [F("_group")]}
    numbered = values.annotate(
        _row=Window(RowNumber(), order_by=F("_value").asc(), **by_group) - 1,
        _count=Window(Count("*"), **by_group),
    )
    wanted = Q()
    for fraction in fractions:
        position = ExpressionWrapper((F("_count") - 1) * Value(fraction), output_field=FloatField())
        # CAST truncates toward zero: the floor, for these positions that are never negative.
        lower = Cast(position, output_field=IntegerField())
        wanted |= Q(_row__gte=lower, _row__lte=lower + 1)
    rows = numbered.filter(wanted).values_list("_group", "_row", "_count", "_value")
    found: dict[Hashable, dict[int, Any]] = defaultdict(dict)
    counts: dict[Hashable, int] = {}
    for group_value, row, count, value in rows:
        found[group_value][row] = value
        counts[group_value] = count
    return {
        group_value: {
            fraction: _interpolate(found[group_value], counts[group_value], fraction)
            for fraction in fractions
        }
        for group_value in found
    }


def _check(fraction: float) -> None:
    if not 0 <= fraction <= 1:
        raise ValueError(f"a percentile fraction is between 0 and 1, not {fraction!r}")


def _interpolate(values_at: dict[int, Any], count: int, fraction: float) -> Any:
    position = fraction * (count - 1)
    lower = math.floor(position)
    below = values_at[lower]
    if lower + 1 >= count or position == lower:
        return below
    return below + (values_at[lower + 1] - below) * (position - lower)

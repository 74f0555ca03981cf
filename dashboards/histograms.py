"""Durations counted in buckets, so that the days rolled up can still give a median.

Percentiles do not add up from day to day; counts per bucket do. A bucket is a range of
durations 5 % wide (bucket 0: under a second), so a percentile read from merged buckets is
within 5 % of the exact one: the dashboard's percentiles over rolled-up days are that close.
"""

import math
from collections.abc import Mapping
from datetime import timedelta

GROWTH = 1.05
_LOG_GROWTH = math.log(GROWTH)


def bucket_of(duration: timedelta) -> int:
    seconds = duration.total_seconds()
    if seconds < 1:
        return 0
    return 1 + int(math.log(seconds) / _LOG_GROWTH)


def bounds(bucket: int) -> tuple[float, float]:
    """The durations of `bucket`, in seconds: [low, high)."""
    if bucket == 0:
        return 0.0, 1.0
    return GROWTH ** (bucket - 1), GROWTH**bucket


def percentile(counts: Mapping[int, int], fraction: float) -> timedelta | None:
    """The `fraction` percentile of the durations counted in `counts`, as percentile_cont
    computes it: between the values at the ranks either side of fraction × (n − 1), each placed
    within its bucket by its rank there. So it is within 5 % (or a second) of the exact one."""
    total = sum(counts.values())
    if not total:
        return None
    rank = fraction * (total - 1)
    lower, upper = math.floor(rank), math.ceil(rank)
    low_value, high_value = _value_at(counts, lower), _value_at(counts, upper)
    return timedelta(seconds=low_value + (high_value - low_value) * (rank - lower))


def _value_at(counts: Mapping[int, int], rank: int) -> float:
    """The `rank`-th (from 0) smallest duration, in seconds, the bucket's values taken to be
    spread evenly over its range."""
    below = 0
    for bucket in sorted(counts):
        count = counts[bucket]
        if rank < below + count:
            low, high = bounds(bucket)
            return low + (high - low) * (rank - below + 0.5) / count
        below += count
    raise ValueError(f"rank {rank} of {below} durations")

"""Percentiles from duration buckets stay within 5 % (or a second) of the exact ones."""

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from dashboards import histograms

SIXTY_DAYS_S = 60 * 24 * 3600


def exact(durations: list[timedelta], fraction: float) -> timedelta:
    """As PostgreSQL's percentile_cont: linear between the values either side of the rank."""
    ordered = sorted(durations)
    rank = fraction * (len(ordered) - 1)
    lower = int(rank)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (rank - lower)


def counted(durations: list[timedelta]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for duration in durations:
        bucket = histograms.bucket_of(duration)
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


@given(
    st.lists(
        st.floats(min_value=0, max_value=SIXTY_DAYS_S).map(lambda s: timedelta(seconds=s)),
        min_size=1,
        max_size=300,
    ),
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.99, 1.0]),
)
def test_a_percentile_of_buckets_is_close_to_the_exact_one(durations, fraction):
    approximate = histograms.percentile(counted(durations), fraction)
    right = exact(durations, fraction)

    error = abs((approximate - right).total_seconds())
    assert error <= 0.05 * right.total_seconds() + 1


def test_buckets_of_two_days_add_up_to_the_buckets_of_both():
    monday = [timedelta(minutes=m) for m in (3, 10, 45)]
    tuesday = [timedelta(minutes=m) for m in (4, 10, 600)]
    merged = counted(monday)
    for bucket, count in counted(tuesday).items():
        merged[bucket] = merged.get(bucket, 0) + count

    assert merged == counted(monday + tuesday)
    median = histograms.percentile(merged, 0.5)
    assert timedelta(minutes=9.5) <= median <= timedelta(minutes=10.5)


def test_no_durations_no_percentile():
    assert histograms.percentile({}, 0.5) is None

from celery import shared_task

from dashboards.rollups import rollup_recent_days


@shared_task
def rollup_dashboard() -> int:
    """Beat, every night: roll up yesterday and the days late changes may have touched."""
    return rollup_recent_days()

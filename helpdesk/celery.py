import logging
import os
import time

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _drop_unusable_connections(task=None, **kwargs) -> None:
    """Workers reuse database connections (CELERY_DB_REUSE_MAX); drop broken or expired ones
    between tasks, as Django does between requests. Eager tasks run inside the caller's
    transaction and are left alone."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


# Publishing to a broker that is down waits for the connection timeout. A request must not
# wait that long for every task it queues: after one failure, publishing is skipped for a while
# and what was not queued stays in the database for a sweep to queue later.
BROKER_BACKOFF_S = 10.0
_broker_down_until = 0.0
_logger = logging.getLogger(__name__)


def queue_task(task, *args) -> bool:
    """`task.delay(*args)`, or False (logged) when the broker is down or was a moment ago.
    Never raises: callers keep what they queue in the database, and a sweep queues it again."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    try:
        task.delay(*args)
    except Exception:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_S
        _logger.warning("could not queue %s%r; the sweep will", task.name, args, exc_info=True)
        return False
    return True


def broker_backoff_reset() -> None:
    """The broker answers again (a sweep task is running): publish at once from now on."""
    global _broker_down_until
    _broker_down_until = 0.0

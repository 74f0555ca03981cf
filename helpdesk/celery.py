import os

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

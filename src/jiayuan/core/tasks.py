from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from jiayuan.core.scheduler import periodic

# Long enough to look into a failure after a holiday, short enough that the queue table
# stays small at thousands of notifications a day.
TASK_RESULT_RETENTION = timedelta(days=14)


@periodic("prune_task_results", "17 3 * * *")
@task()
def prune_task_results() -> int:
    """Delete finished (successful or failed) task results older than the retention."""
    cutoff = timezone.now() - TASK_RESULT_RETENTION
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted

from django_tasks import task

from jiayuan.core.scheduler import periodic
from jiayuan.servicedesk import services


# Every ten minutes: a request finished 48 hours ago is closed within minutes of its time.
@periodic("servicedesk_auto_close", "*/10 * * * *")
@task()
def auto_close_finished() -> int:
    """Close and rate the finished requests whose owners neither confirmed nor rated them in
    time. Safe to run twice: each request is locked and checked again."""
    return services.auto_close_due()

from django_tasks import TaskContext, task

from jiayuan.core.workers import on_abandon
from jiayuan.org import importing


@task(takes_context=True)
def import_spreadsheet(context: TaskContext, job_id: int) -> str:
    """Check an uploaded spreadsheet row by row and write it, or report every bad row."""
    return importing.import_job_run(job_id=job_id, attempt=context.attempt)


@on_abandon(import_spreadsheet)
def import_spreadsheet_abandoned(job_id: int) -> None:
    importing.import_job_abandon(job_id=job_id)

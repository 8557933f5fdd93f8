from django_tasks import task

from jiayuan.org import importing


@task()
def import_spreadsheet(job_id: int) -> str:
    """Check an uploaded spreadsheet row by row and write it, or report every bad row."""
    return importing.import_job_run(job_id=job_id)

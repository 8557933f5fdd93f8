from django_tasks import task

from jiayuan.core.scheduler import periodic
from jiayuan.quality import services


# Every quarter of an hour: deadlines and reminders are days apart, so a campaign closes
# and a reminder goes out within minutes of its time without a job every minute.
@periodic("quality_tick", "*/15 * * * *")
@task()
def quality_tick() -> dict[str, int]:
    """Close campaigns past their deadline, invite households, send due reminders."""
    return services.tick()

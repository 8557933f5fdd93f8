from django_tasks import task

from jiayuan.core.scheduler import periodic
from jiayuan.dispatch import services


# Every minute: a grab offer runs out within a minute of its time, and a request that found
# nobody on duty is sent when a shift starts.
@periodic("dispatch_tick", "* * * * *")
@task()
def dispatch_tick() -> int:
    """Fall back to automatic dispatch for offers nobody grabbed, and retry waiting requests."""
    return services.tick()

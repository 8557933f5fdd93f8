from django_tasks import task

from jiayuan.core.scheduler import periodic
from jiayuan.training import services


# Every morning at 08:00, before the working day: a warning is read the day it is due.
@periodic("training_certificate_warnings", "0 8 * * *")
@task()
def certificate_warnings() -> int:
    """Warn holders and managers of certificates reaching a warning threshold or expiring."""
    return services.warn_expiring()

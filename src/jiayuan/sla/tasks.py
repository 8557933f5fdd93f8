from django_tasks import task

from jiayuan.core.scheduler import periodic
from jiayuan.sla import deadlines


# Every minute: a warning or an escalation goes out within a minute of its time.
@periodic("sla_check", "* * * * *")
@task()
def sla_check() -> int:
    """Warn and escalate the SLA clocks whose time has come. Safe to run twice at once:
    each clock is locked while it is handled and each alert is recorded once."""
    return deadlines.check_due()

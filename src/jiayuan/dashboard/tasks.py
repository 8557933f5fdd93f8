from django_tasks import task

from jiayuan.core.scheduler import periodic
from jiayuan.dashboard import rollups
from jiayuan.org.models import Company


# Every five minutes: the dashboards say how fresh their figures are, and a manager
# looking after a change expects to see it within minutes, not the next morning.
@periodic("dashboard_refresh", "*/5 * * * *")
@task()
def dashboard_refresh() -> int:
    """Rebuild the estate-months whose requests changed since the last run."""
    return sum(rollups.refresh(company) for company in Company.objects.order_by("pk"))

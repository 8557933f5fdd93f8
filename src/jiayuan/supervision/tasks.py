from django_tasks import task

from jiayuan.core.scheduler import periodic
from jiayuan.supervision import services


# Every quarter hour: an order is reported overdue within fifteen minutes of its deadline.
@periodic("supervision_overdue_orders", "*/15 * * * *")
@task()
def supervision_overdue_orders() -> int:
    """Tell owners and estate managers, once, of rectification orders past their deadline."""
    return services.orders_notify_overdue()

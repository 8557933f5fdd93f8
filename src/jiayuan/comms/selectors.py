from django.db.models import Case, IntegerField, Value, When

from jiayuan.comms.models import Notification


def notifications_for(user, *, unread_only: bool = False):
    queryset = Notification.objects.restrict(user).select_related("estate")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset


def unread_count(user) -> int:
    return notifications_for(user, unread_only=True).count()


def notification_centre(user, *, unread_only: bool = False):
    """The notification centre's order: unread first, then newest first."""
    unread_first = Case(
        When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return notifications_for(user, unread_only=unread_only).order_by(
        unread_first, "-created_at", "-id"
    )

from jiayuan.comms.models import Notification


def notifications_for(user, *, unread_only: bool = False):
    queryset = Notification.objects.restrict(user).select_related("estate")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset


def unread_count(user) -> int:
    return notifications_for(user, unread_only=True).count()

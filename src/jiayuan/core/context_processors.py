from django.conf import settings


def shell(request):
    """What the base layout needs on every page: the estate switcher and the unread count."""
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        from jiayuan.comms.selectors import unread_count

        unread = unread_count(user)
    return {
        "current_estate": getattr(request, "estate", None),
        "switchable_estates": getattr(request, "estates", []),
        "unread_notifications": unread,
        "LANGUAGES": settings.LANGUAGES,
    }

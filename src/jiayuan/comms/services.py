"""Notifications: the one way to tell a person something, in the app and by email."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from jiayuan.comms.events import CommsEvent
from jiayuan.comms.models import Notification
from jiayuan.core.audit import record_event


def notify(
    *,
    recipients: Iterable,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    estate=None,
    email: bool = True,
) -> list[Notification]:
    """Create one notification per recipient; emails go out through the task queue only
    after the surrounding transaction commits, so a rolled-back change sends nothing."""
    from jiayuan.comms.tasks import email_notification

    created = Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                estate=estate,
                kind=kind,
                title=title[:200],
                body=body,
                link=link,
            )
            for user in {u.pk: u for u in recipients}.values()
        ]
    )
    if email:
        for notification in created:
            if notification.recipient.email:
                transaction.on_commit(lambda pk=notification.pk: email_notification.enqueue(pk))
    return created


@transaction.atomic
def notifications_mark_read(*, actor, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when ids is None)."""
    queryset = Notification.objects.restrict(actor, "change").filter(read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    count = queryset.update(read_at=timezone.now())
    if count:
        record_event(actor=actor, code=CommsEvent.NOTIFICATIONS_READ, after={"count": count})
    return count

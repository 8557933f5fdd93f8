from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from jiayuan.comms.models import Notification


@task()
def email_notification(notification_id: int) -> bool:
    """Send one notification by email, once: a rerun after a crash finds it already sent."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.recipient.email:
            return False
        send_mail(
            subject=notification.title,
            message=f"{notification.body}\n\n{notification.link}".strip(),
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True

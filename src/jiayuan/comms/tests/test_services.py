import pytest
from django.core import mail
from django.db import transaction

from jiayuan.comms.models import Notification
from jiayuan.comms.services import notifications_mark_read, notify
from jiayuan.comms.tasks import email_notification


@pytest.mark.django_db
class TestNotify:
    def test_creates_one_notification_per_distinct_recipient(self, personas):
        created = notify(
            recipients=[personas.clerk_a, personas.clerk_a, personas.manager_a],
            kind="test",
            title="新报修",
            email=False,
        )
        assert len(created) == 2
        assert Notification.objects.filter(recipient=personas.clerk_a).count() == 1

    def test_email_goes_out_only_after_commit(self, personas, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notify(recipients=[personas.clerk_a], kind="test", title="新报修", body="1号楼101")
        assert mail.outbox == []
        for callback in callbacks:
            callback()
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [personas.clerk_a.email]
        assert Notification.objects.get(recipient=personas.clerk_a).emailed_at is not None

    def test_rolled_back_change_sends_nothing(self, personas, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    notify(recipients=[personas.clerk_a], kind="test", title="x")
                    raise RuntimeError("the surrounding change failed")
            except RuntimeError:
                pass
        assert mail.outbox == []
        assert not Notification.objects.exists()

    def test_email_task_sends_once_even_when_run_twice(self, personas):
        (notification,) = notify(recipients=[personas.clerk_a], kind="t", title="x", email=False)
        assert email_notification.call(notification.pk) is True
        assert email_notification.call(notification.pk) is False
        assert len(mail.outbox) == 1

    def test_recipient_without_email_gets_only_the_in_app_message(self, personas):
        personas.clerk_a.email = ""
        personas.clerk_a.save()
        (notification,) = notify(recipients=[personas.clerk_a], kind="t", title="x", email=False)
        assert email_notification.call(notification.pk) is False
        assert mail.outbox == []


@pytest.mark.django_db
class TestMarkRead:
    def test_marks_only_the_actors_own(self, personas):
        mine = notify(recipients=[personas.clerk_a], kind="t", title="a", email=False)[0]
        theirs = notify(recipients=[personas.clerk_b], kind="t", title="b", email=False)[0]
        assert notifications_mark_read(actor=personas.clerk_a, ids=[mine.pk, theirs.pk]) == 1
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_mark_all(self, personas):
        notify(recipients=[personas.clerk_a], kind="t", title="a", email=False)
        notify(recipients=[personas.clerk_a], kind="t", title="b", email=False)
        assert notifications_mark_read(actor=personas.clerk_a) == 2
        assert notifications_mark_read(actor=personas.clerk_a) == 0

"""The notification centre: list, mark read and the bell's badge."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from jiayuan.comms.models import Notification
from jiayuan.comms.services import notify

pytestmark = pytest.mark.django_db
LIST = reverse("comms:list")
MARK_READ = reverse("comms:mark_read")
BADGE = reverse("comms:unread_badge")


def tell(user, title, **extra):
    return notify(recipients=[user], kind="test", title=title, email=False, **extra)[0]


def unread_of(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


class TestList:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(LIST)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

    def test_shows_own_notifications_unread_first(self, personas, time_machine):
        time_machine.move_to(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
        old_unread = tell(personas.owner_a101, "旧的未读")
        time_machine.move_to(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
        read = tell(personas.owner_a101, "新的已读")
        read.read_at = read.created_at
        read.save()
        tell(personas.owner_a102, "别人的")
        response = personas.client_for(personas.owner_a101).get(LIST)
        shown = [n.title for n in response.context["page"].object_list]
        assert shown == [old_unread.title, read.title]
        assert 'class="is-unread"' in response.content.decode()

    @pytest.mark.parametrize("persona", ["outsider", "stranger"])
    def test_others_see_an_empty_list(self, personas, persona):
        tell(personas.owner_a101, "私人通知")
        with translation.override("en"):
            response = personas.client_for(getattr(personas, persona)).get(
                LIST, HTTP_ACCEPT_LANGUAGE="en"
            )
        assert response.status_code == 200
        assert "私人通知" not in response.content.decode()
        assert "No notifications yet" in response.content.decode()

    def test_unread_filter(self, personas):
        tell(personas.clerk_a, "未读")
        read = tell(personas.clerk_a, "已读")
        read.read_at = read.created_at
        read.save()
        response = personas.client_for(personas.clerk_a).get(LIST, {"show": "unread"})
        assert [n.title for n in response.context["page"].object_list] == ["未读"]
        bogus = personas.client_for(personas.clerk_a).get(LIST, {"show": "<b>", "page": "x"})
        assert bogus.status_code == 200
        assert bogus.context["shown"] == "all"

    def test_pages_of_twenty_five(self, personas):
        for number in range(30):
            tell(personas.clerk_a, f"n{number}")
        client = personas.client_for(personas.clerk_a)
        assert len(client.get(LIST).context["page"].object_list) == 25
        assert len(client.get(LIST, {"page": 2}).context["page"].object_list) == 5

    def test_only_internal_links_are_links(self, personas):
        tell(personas.clerk_a, "内部", link="/org/units/")
        tell(personas.clerk_a, "恶意", link="javascript:alert(1)")
        html = personas.client_for(personas.clerk_a).get(LIST).content.decode()
        assert 'href="/org/units/"' in html
        assert "javascript:" not in html

    def test_query_count_does_not_grow_with_rows(self, personas, django_assert_max_num_queries):
        tell(personas.clerk_a, "一", estate=personas.estate_a)
        client = personas.client_for(personas.clerk_a)
        with django_assert_max_num_queries(15) as baseline:
            client.get(LIST)
        for number in range(20):
            tell(personas.clerk_a, f"n{number}", estate=personas.estate_a)
        with django_assert_max_num_queries(len(baseline.captured_queries)):
            client.get(LIST)


class TestMarkRead:
    def test_marks_chosen_own_notifications(self, personas):
        first = tell(personas.clerk_a, "一")
        second = tell(personas.clerk_a, "二")
        response = personas.client_for(personas.clerk_a).post(MARK_READ, {"ids": [first.pk]})
        assert response.status_code == 302
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.is_read and not second.is_read

    def test_all_marks_every_own_notification_and_no_one_else_s(self, personas):
        tell(personas.clerk_a, "一")
        tell(personas.clerk_a, "二")
        tell(personas.clerk_b, "别人的")
        personas.client_for(personas.clerk_a).post(MARK_READ, {"all": "1"})
        assert unread_of(personas.clerk_a) == 0
        assert unread_of(personas.clerk_b) == 1

    @pytest.mark.parametrize(
        "form", [{}, {"ids": ["abc"]}, {"ids": ["-1"]}, {"ids": ["<script>"]}, {"all": ""}]
    )
    def test_bad_input_is_an_error_message_and_marks_nothing(self, personas, form):
        tell(personas.clerk_a, "一")
        with translation.override("en"):
            response = personas.client_for(personas.clerk_a).post(
                MARK_READ, form, follow=True, HTTP_ACCEPT_LANGUAGE="en"
            )
        assert "Nothing was marked as read" in response.content.decode()
        assert unread_of(personas.clerk_a) == 1

    def test_someone_else_s_notification_is_refused(self, personas):
        other = tell(personas.clerk_b, "别人的")
        mine = tell(personas.clerk_a, "我的")
        personas.client_for(personas.clerk_a).post(MARK_READ, {"ids": [other.pk, mine.pk]})
        assert unread_of(personas.clerk_b) == 1
        assert unread_of(personas.clerk_a) == 1

    def test_get_is_refused_and_anonymous_sent_to_sign_in(self, personas, client):
        assert personas.client_for(personas.clerk_a).get(MARK_READ).status_code == 405
        response = client.post(MARK_READ, {"all": "1"})
        assert response.url.startswith(reverse("accounts:login"))

    def test_csrf_is_enforced(self, personas):
        tell(personas.clerk_a, "一")
        client = Client(enforce_csrf_checks=True)
        client.force_login(personas.clerk_a)
        assert client.post(MARK_READ, {"all": "1"}).status_code == 403
        assert unread_of(personas.clerk_a) == 1


class TestBadge:
    def test_returns_the_unread_count_fragment(self, personas):
        tell(personas.owner_a101, "一")
        tell(personas.owner_a101, "二")
        tell(personas.owner_a102, "别人的")
        response = personas.client_for(personas.owner_a101).get(BADGE, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="unread-badge"' in html and 'hx-trigger="every 60s"' in html
        assert "</span>2</span>" in html
        assert "<html" not in html

    def test_zero_is_hidden(self, personas):
        html = personas.client_for(personas.stranger).get(BADGE).content.decode()
        assert " hidden>" in html

    def test_anonymous_poll_stops_polling(self, client):
        assert client.get(BADGE, HTTP_HX_REQUEST="true").status_code == 286

    def test_anonymous_without_htmx_is_sent_to_sign_in(self, client):
        response = client.get(BADGE)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

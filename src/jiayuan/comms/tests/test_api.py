"""The notification centre over the API: one's own notifications only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jiayuan.comms.models import Notification
from jiayuan.comms.services import notify
from jiayuan.core.api_testing import ApiClient, field_errors

pytestmark = pytest.mark.django_db


def tell(user, title, count=1):
    for n in range(count):
        notify(recipients=[user], kind="test", title=f"{title} {n}", email=False)


def test_the_list_holds_only_ones_own_notifications_newest_first(personas):
    tell(personas.owner_a101, "停水")
    tell(personas.owner_a102, "停电")
    body = ApiClient(personas.owner_a101).get("/notifications").json()
    assert body["count"] == 1
    assert body["items"][0]["title"] == "停水 0"
    assert body["items"][0]["is_read"] is False


def test_unread_filter_and_count(personas):
    tell(personas.clerk_a, "工单", count=3)
    first = Notification.objects.filter(recipient=personas.clerk_a).first()
    client = ApiClient(personas.clerk_a)
    assert client.post("/notifications/read", {"ids": [first.pk]}).json() == {"marked": 1}
    assert client.get("/notifications", unread="true").json()["count"] == 2
    assert client.get("/notifications").json()["count"] == 3
    assert client.get("/notifications/unread-count").json() == {"unread": 2}


def test_mark_all_read(personas):
    tell(personas.clerk_a, "工单", count=3)
    client = ApiClient(personas.clerk_a)
    assert client.post("/notifications/read", {}).json() == {"marked": 3}
    assert client.get("/notifications/unread-count").json() == {"unread": 0}


def test_another_persons_notifications_cannot_be_marked(personas):
    tell(personas.owner_a102, "停电")
    theirs = Notification.objects.get(recipient=personas.owner_a102)
    response = ApiClient(personas.owner_a101).post("/notifications/read", {"ids": [theirs.pk]})
    assert response.json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": "all"}, "ids"),
        ({"ids": ["one"]}, "ids.0"),
        ({"ids": [0]}, "ids.0"),
        ({"ids": list(range(1, 502))}, "ids"),
        ({"id": 1}, "id"),
    ],
)
def test_bad_input_is_422_and_marks_nothing(personas, body, field):
    tell(personas.clerk_a, "工单")
    response = ApiClient(personas.clerk_a).post("/notifications/read", body)
    assert response.status_code == 422
    assert field in field_errors(response)
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_a_bad_unread_filter_is_422(personas):
    response = ApiClient(personas.clerk_a).get("/notifications", unread="perhaps")
    assert response.status_code == 422
    assert field_errors(response) == {"unread": "Enter true or false."}


def test_the_list_does_not_grow_in_queries_with_rows(personas, django_assert_max_num_queries):
    client = ApiClient(personas.clerk_a)
    tell(personas.clerk_a, "工单", count=2)
    with CaptureQueriesContext(connection) as few:
        client.get("/notifications")
    tell(personas.clerk_a, "工单", count=40)
    with django_assert_max_num_queries(len(few)):
        assert client.get("/notifications").json()["count"] == 42

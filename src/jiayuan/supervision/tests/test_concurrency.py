"""Two inspectors verifying one fix at once, on real threads with their own connections
(PostgreSQL in CI, a SQLite file here): one wins, the other is told."""

import pytest
import time_machine
from django.conf import settings
from django.utils import translation

from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import at_once
from jiayuan.supervision import services
from jiayuan.supervision.models import RectificationOrder
from jiayuan.supervision.tests.conftest import MORNING, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("file_database")]


@time_machine.travel(MORNING, tick=False)
def test_two_verifications_at_once_one_wins():
    world = build_world()
    order = world.fixed()
    version = order.version

    results = at_once(
        lambda: services.order_verify(actor=world.p.clerk_a, order=order, version=version),
        lambda: services.order_verify(actor=world.p.manager_a, order=order, version=version),
    )

    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    with translation.override(settings.LANGUAGE_CODE):  # the threads' language
        changed = translation.gettext("Someone else changed this order meanwhile; reload it.")
    assert isinstance(lost[0], services.OrderChanged) and lost[0].messages == [changed]
    saved = RectificationOrder.objects.get(pk=order.pk)
    assert saved.status == "verified" and saved.verified_by_id == won[0].verified_by_id
    assert saved.version == version + 1
    assert AuditEvent.objects.filter(code="supervision.order_verified").count() == 1

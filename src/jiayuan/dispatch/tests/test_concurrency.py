"""Two technicians grabbing one order, and two automatic runs at once, on real threads
with their own connections (PostgreSQL in CI, a SQLite file here)."""

import pytest
import time_machine
from django.conf import settings
from django.utils import translation

from jiayuan.core.testing import at_once
from jiayuan.dispatch import services
from jiayuan.dispatch.models import GrabOffer, Mode, TechnicianProfile
from jiayuan.dispatch.tests.conftest import DAY_SHIFT, FAULTS, MORNING, build_crew, technician
from jiayuan.servicedesk.models import Handling, ServiceRequest
from jiayuan.servicedesk.services import RequestChanged

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("file_database")]


@time_machine.travel(MORNING, tick=False)
def test_two_technicians_grab_one_order_one_gets_it_the_other_is_told():
    crew = build_crew()
    second = technician(crew.p, "plumber2", "赵师傅", {"plumbing": 2}, DAY_SHIFT)
    services.rule_save(actor=crew.p.dispatcher_a, estate=crew.p.estate_a, mode=Mode.GRAB)
    request = crew.repair()
    services.route(request.pk, request.estate_id, request.category)
    grab = GrabOffer.objects.get(request=request)

    results = at_once(
        lambda: services.grab(actor=crew.plumber, offer_id=grab.pk),
        lambda: services.grab(actor=second, offer_id=grab.pk),
    )

    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    with translation.override(settings.LANGUAGE_CODE):  # the threads' language
        gone = translation.gettext("Someone else has already grabbed this order.")
    assert isinstance(lost[0], RequestChanged) and lost[0].messages == [gone]
    saved = ServiceRequest.objects.get(pk=request.pk)
    assert saved.assignee_id == won[0].assignee_id
    assert Handling.objects.filter(request=request).count() == 1
    assert GrabOffer.objects.get(pk=grab.pk).grabbed_by_id == saved.assignee_id


@time_machine.travel(MORNING, tick=False)
def test_two_automatic_runs_at_once_keep_the_cap():
    crew = build_crew()
    TechnicianProfile.objects.filter(user=crew.plumber).update(max_open=2)
    leaks = [crew.repair(text=text) for text in FAULTS]
    services.rule_save(actor=crew.p.dispatcher_a, estate=crew.p.estate_a, mode=Mode.AUTOMATIC)

    at_once(
        lambda: services.run_automatic(crew.p.estate_a.pk),
        lambda: services.run_automatic(crew.p.estate_a.pk),
    )

    holders = list(
        ServiceRequest.objects.filter(pk__in=[r.pk for r in leaks]).values_list(
            "assignee_id", flat=True
        )
    )
    assert holders.count(crew.plumber.pk) == 2
    assert Handling.objects.filter(request__in=leaks).count() == 2

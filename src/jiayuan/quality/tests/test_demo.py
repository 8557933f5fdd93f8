"""The demo's surveys: last quarter's closed campaign in each estate answered by about 40%
of the households with follow-ups partly done, and this quarter's open one."""

import pytest

from jiayuan.org.demo import SMALL_PLAN, build_demo
from jiayuan.quality import selectors
from jiayuan.quality.demo import build_quality_demo, delete_quality_demo
from jiayuan.quality.models import Campaign, FollowUp, SurveyAnswer, SurveyTemplate
from jiayuan.sla.demo import build_sla_demo


@pytest.mark.django_db
def test_the_demo_surveys_look_alive_and_go_away():
    company = build_demo(plan=SMALL_PLAN)
    build_sla_demo(company)
    build_quality_demo(company)
    closed = Campaign.objects.filter(company=company, status="closed")
    assert closed.count() == company.estates.count()
    for campaign in closed:
        answers = SurveyAnswer.objects.filter(campaign=campaign).count()
        assert abs(answers / campaign.households_asked - 0.4) < 0.02
    follow_ups = FollowUp.objects.filter(answer__campaign__in=closed)
    assert follow_ups.filter(status="done").exists() and follow_ups.filter(status="open").exists()
    current = Campaign.objects.get(company=company, status="open")
    assert current.estate is None and SurveyAnswer.objects.filter(campaign=current).exists()
    admin = company.memberships.get(user__username="demo_admin").user
    rows = selectors.csi_by(
        admin,
        company_id=company.pk,
        start=closed.first().period_start,
        end=current.period_end,
        by="estate",
    )
    assert all(40 < result.score < 90 for _pk, _name, result in rows)
    delete_quality_demo(company)
    assert not SurveyTemplate.objects.filter(company=company).exists()
    assert not SurveyAnswer.objects.exists()

"""Templates (freezing, copying, checks), campaigns (launch, households asked, reminders,
closing at the deadline) and closing follow-ups on both paths."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiayuan.comms.models import Notification
from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import make_owner
from jiayuan.quality import services
from jiayuan.quality.events import QualityEvent
from jiayuan.quality.models import (
    Campaign,
    CampaignHousehold,
    FollowUp,
    Question,
    SurveyAnswer,
    SurveyTemplate,
)
from jiayuan.quality.tests.conftest import DEADLINE, launched
from jiayuan.servicedesk.models import Channel, Kind, ServiceRequest

RATING = {"kind": "rating", "text": "总体满意度", "dimension": "experience"}


# ----------------------------------------------------------------------------- templates


def test_the_default_template_covers_the_four_dimensions(survey):
    dimensions = set(
        survey.template.questions.exclude(dimension="").values_list("dimension", flat=True)
    )
    assert dimensions == {"content", "attitude", "efficiency", "experience"}
    areas = set(survey.template.questions.values_list("area", flat=True))
    assert {"security", "cleaning", "greening", "repairs", "service_desk"} <= areas


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ([], "Add at least one question."),
        (
            [{"kind": "rating", "text": "服务", "dimension": ""}],
            "Question 1: a rating question measures one of the four dimensions.",
        ),
        (
            [{"kind": "text", "text": "建议", "dimension": "content"}],
            "Question 1: only a rating question measures a dimension.",
        ),
        (
            [RATING, {"kind": "single", "text": "方式", "options": ["电话"]}],
            "Question 2: a choice question has 2 to 12 options.",
        ),
        ([{"kind": "poll", "text": "？"}], "Question 1: choose the kind of question."),
        ([{**RATING, "text": "长" * 301}], "Question 1: At most 300 characters (now 301)."),
        ("not a list", "Give the questions as a list."),
    ],
)
def test_a_bad_template_is_refused_with_a_message_and_nothing_is_written(
    survey, questions, message
):
    p = survey.p
    before = SurveyTemplate.objects.count(), Question.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.template_create(
            actor=p.manager_a, company=p.company, title="问卷", questions=questions
        )
    assert refused.value.message_dict == {"questions": [message]}
    assert (SurveyTemplate.objects.count(), Question.objects.count()) == before


def test_a_template_used_by_a_campaign_is_frozen_and_a_copy_can_change(survey):
    p = survey.p
    assert SurveyTemplate.objects.get(pk=survey.template.pk).is_frozen
    with pytest.raises(ValidationError, match="make a copy"):
        services.template_update(
            actor=p.manager_a, template=survey.template, title="改", questions=[RATING]
        )
    with pytest.raises(ValidationError, match="make a copy"):
        services.template_delete(actor=p.manager_a, template=survey.template)
    copy = services.template_copy(actor=p.manager_a, template=survey.template)
    assert copy.questions.count() == survey.template.questions.count() and not copy.is_frozen
    services.template_update(actor=p.manager_a, template=copy, title="新问卷", questions=[RATING])
    assert copy.questions.get().text == "总体满意度"
    assert survey.template.questions.count() == 13


@pytest.mark.parametrize(("who", "refusal"), [("clerk_a", PermissionDenied), ("outsider", Http404)])
def test_only_managers_of_the_company_write_templates(survey, who, refusal):
    p = survey.p
    with pytest.raises(refusal):
        services.template_create(
            actor=getattr(p, who), company=p.company, title="问卷", questions=[RATING]
        )
    # Templates are the managers': to the desk they are not there at all.
    with pytest.raises(Http404):
        services.template_copy(actor=getattr(p, who), template=survey.template)


# ----------------------------------------------------------------------------- campaigns


def test_launching_asks_the_households_lived_in_and_invites_their_portal_accounts(survey):
    p = survey.p
    # Units 101 and 102 of building 1 are occupied; estate B's unit is in another estate.
    households = CampaignHousehold.objects.filter(campaign=survey.campaign)
    assert set(households.values_list("unit_id", flat=True)) == {p.unit_a101.pk, p.unit_a102.pk}
    assert survey.campaign.households_asked == 2 and survey.campaign.status == Campaign.Status.OPEN
    invited = Notification.objects.filter(kind="quality.survey").values_list("recipient", flat=True)
    assert set(invited) == {p.owner_a101.pk, p.owner_a102.pk}


def test_a_campaign_of_every_estate_is_the_company_admins(survey):
    p = survey.p
    with pytest.raises(PermissionDenied):
        services.campaign_create(
            actor=p.manager_a, company=p.company, template=survey.template, deadline=DEADLINE
        )
    campaign = launched(p, survey.template)
    # Estate B's flat is marked occupied but no resident is on record: nobody to ask.
    assert campaign.households_asked == 2
    assert set(campaign.estates.all()) == {p.estate_a, p.estate_b}
    with pytest.raises(PermissionDenied):
        services.campaign_close(actor=p.manager_a, campaign=campaign)


def test_a_campaign_of_some_buildings_asks_only_them(survey):
    p = survey.p
    from jiayuan.core.testing import make_building, make_unit

    other = make_building(p.estate_a, "2号楼")
    unit = make_unit(other, "201")
    make_owner("owner_a201", "赵六", "13800138011", unit)
    unit.status = "occupied"
    unit.save()
    campaign = launched(p, survey.template, estate=p.estate_a, buildings=[other])
    assert list(campaign.households.values_list("unit_id", flat=True)) == [unit.pk]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"deadline": dt.datetime(2026, 5, 1, tzinfo=dt.UTC)}, "deadline"),
        ({"period_start": dt.date(2026, 6, 1), "period_end": dt.date(2026, 4, 1)}, "period_end"),
        ({"reminder_count": 9}, "reminder_count"),
        ({"reminder_days_before": 0}, "reminder_days_before"),
        ({"title": "长" * 201}, "title"),
    ],
)
def test_bad_campaign_input_is_refused_on_its_field(survey, changes, field):
    p = survey.p
    count = Campaign.objects.count()
    values = {"deadline": DEADLINE, **changes}
    with pytest.raises(ValidationError) as refused:
        services.campaign_create(
            actor=p.manager_a,
            company=p.company,
            template=survey.template,
            estate=p.estate_a,
            **values,
        )
    assert field in refused.value.message_dict
    assert Campaign.objects.count() == count


def test_outsiders_and_desk_staff_do_not_run_campaigns(survey):
    p = survey.p
    with pytest.raises(Http404):
        services.campaign_close(actor=p.outsider, campaign=survey.campaign)
    with pytest.raises(Http404):
        services.campaign_close(actor=p.clerk_a, campaign=survey.campaign)
    with pytest.raises(PermissionDenied):
        services.campaign_create(
            actor=p.clerk_a,
            company=p.company,
            template=survey.template,
            estate=p.estate_a,
            deadline=DEADLINE,
        )
    assert Campaign.objects.get(pk=survey.campaign.pk).status == Campaign.Status.OPEN


def test_a_campaign_closes_at_its_deadline(survey, clock):
    p = survey.p
    clock.move_to(DEADLINE - dt.timedelta(minutes=1))
    assert services.tick()["closed"] == 0
    clock.move_to(DEADLINE)
    assert services.tick()["closed"] == 1
    campaign = Campaign.objects.get(pk=survey.campaign.pk)
    assert campaign.status == Campaign.Status.CLOSED and campaign.closed_at == DEADLINE
    event = AuditEvent.objects.get(code=QualityEvent.CAMPAIGN_CLOSED)
    assert event.actor is None and event.after == {"by_deadline": True}
    assert services.tick()["closed"] == 0
    with pytest.raises(ValidationError, match="closed"):
        services.answer_submit(
            actor=p.owner_a101, campaign=campaign, unit=p.unit_a101, answers=survey.answers()
        )


def test_reminders_go_once_each_and_only_to_households_that_have_not_answered(survey, clock):
    p = survey.p
    campaign = survey.campaign
    Campaign.objects.filter(pk=campaign.pk).update(reminder_count=2, reminder_days_before=4)
    services.answer_submit(
        actor=p.owner_a102, campaign=campaign, unit=p.unit_a102, answers=survey.answers()
    )

    def reminded():
        return list(
            Notification.objects.filter(kind="quality.survey", title__startswith="Reminder")
            .order_by("pk")
            .values_list("recipient_id", flat=True)
        )

    clock.move_to(DEADLINE - dt.timedelta(days=4, minutes=1))
    services.tick()
    assert reminded() == []
    clock.move_to(DEADLINE - dt.timedelta(days=4))
    services.tick()
    services.tick()  # a second run of the job in the same window sends nothing more
    assert reminded() == [p.owner_a101.pk]
    clock.move_to(DEADLINE - dt.timedelta(days=2))
    services.tick()
    assert reminded() == [p.owner_a101.pk, p.owner_a101.pk]
    clock.move_to(DEADLINE - dt.timedelta(hours=1))
    services.tick()
    assert len(reminded()) == 2
    assert Campaign.objects.get(pk=campaign.pk).reminders_sent == 2


def test_a_job_that_missed_both_reminders_sends_one(survey, clock):
    Campaign.objects.filter(pk=survey.campaign.pk).update(reminder_count=2, reminder_days_before=4)
    clock.move_to(DEADLINE - dt.timedelta(days=1))
    services.tick()
    assert Notification.objects.filter(title__startswith="Reminder").count() == 2  # two flats
    assert Campaign.objects.get(pk=survey.campaign.pk).reminders_sent == 2


# ----------------------------------------------------------------------------- follow-ups


def _low(survey, owner, unit):
    services.answer_submit(
        actor=owner, campaign=survey.campaign, unit=unit, answers=survey.answers(attitude=1)
    )
    return FollowUp.objects.get(answer__unit=unit, answer__campaign=survey.campaign)


def test_the_desk_records_the_call_back(survey):
    p = survey.p
    follow_up = _low(survey, p.owner_a101, p.unit_a101)
    services.follow_up_record(
        actor=p.clerk_a, follow_up=follow_up, outcome="satisfied", note="已致歉并解释"
    )
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.done_by) == (
        "done",
        "satisfied",
        p.clerk_a,
    )
    with pytest.raises(services.FollowUpChanged):
        services.follow_up_record(actor=p.clerk_a, follow_up=follow_up, outcome="unreachable")
    assert AuditEvent.objects.filter(code=QualityEvent.FOLLOW_UP_DONE).count() == 1


def test_the_desk_opens_a_complaint_on_behalf_of_the_household(survey):
    p = survey.p
    follow_up = _low(survey, p.owner_a101, p.unit_a101)
    services.follow_up_complaint(
        actor=p.clerk_a, follow_up=follow_up, category="security", description="夜间巡逻太少"
    )
    follow_up.refresh_from_db()
    complaint = follow_up.request
    assert (follow_up.status, follow_up.outcome) == ("done", "complaint")
    assert (complaint.kind, complaint.channel, complaint.category) == (
        Kind.COMPLAINT,
        Channel.SURVEY,
        "security",
    )
    assert complaint.reporter == p.resident_a101 and complaint.reporter_user == p.owner_a101
    assert complaint.unit == p.unit_a101


def test_an_anonymous_low_score_is_reviewed_not_called(anonymous_survey):
    p = anonymous_survey.p
    services.answer_submit(
        actor=p.owner_a101,
        campaign=anonymous_survey.campaign,
        unit=p.unit_a101,
        answers=anonymous_survey.answers(content=1),
    )
    follow_up = FollowUp.objects.get()
    with pytest.raises(ValidationError) as refused:
        services.follow_up_record(
            actor=p.clerk_a, follow_up=follow_up, outcome="satisfied", note="打过电话"
        )
    assert set(refused.value.message_dict) == {"outcome"}
    with pytest.raises(ValidationError) as refused:
        services.follow_up_record(
            actor=p.clerk_a, follow_up=follow_up, outcome="reviewed", note="  "
        )
    assert set(refused.value.message_dict) == {"note"}
    services.follow_up_complaint(
        actor=p.clerk_a,
        follow_up=follow_up,
        category="cleaning",
        description="匿名反馈：楼道保洁不到位",
    )
    complaint = ServiceRequest.objects.get()
    assert complaint.reporter is None and complaint.reporter_user is None and complaint.unit is None


@pytest.mark.parametrize("who", ["clerk_b", "outsider", "technician_a", "owner_a101"])
def test_only_the_estates_desk_closes_its_follow_ups(survey, who):
    p = survey.p
    follow_up = _low(survey, p.owner_a101, p.unit_a101)
    with pytest.raises(Http404):
        services.follow_up_record(actor=getattr(p, who), follow_up=follow_up, outcome="satisfied")
    assert FollowUp.objects.get().status == "open"


def test_a_bad_complaint_leaves_the_follow_up_open(survey):
    p = survey.p
    follow_up = _low(survey, p.owner_a101, p.unit_a101)
    with pytest.raises(ValidationError) as refused:
        services.follow_up_complaint(
            actor=p.clerk_a, follow_up=follow_up, category="nope", description=""
        )
    assert {"category", "description"} <= set(refused.value.message_dict)
    assert FollowUp.objects.get().status == "open" and not ServiceRequest.objects.exists()
    assert SurveyAnswer.objects.count() == 1

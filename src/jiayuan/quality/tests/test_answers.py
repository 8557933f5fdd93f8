"""Answering: one answer per household, the checks of each answer, anonymity, and the
low-score follow-ups it opens."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from jiayuan.comms.models import Notification
from jiayuan.core.context import RequestContext, reset_request_context, set_request_context
from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import make_owner
from jiayuan.org.models import Residency
from jiayuan.quality import services
from jiayuan.quality.events import QualityEvent
from jiayuan.quality.models import AnswerItem, FollowUp, QualitySettings, SurveyAnswer


def test_an_owner_answers_for_their_household(survey):
    p = survey.p
    answer = services.answer_submit(
        actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers()
    )
    assert answer.unit == p.unit_a101 and answer.respondent == p.owner_a101
    assert answer.building == p.building_a1
    # 10 ratings, 1 single, 1 multiple, 1 text.
    assert answer.items.count() == 13
    assert sorted(answer.items.exclude(dimension="").values_list("rating", flat=True)) == [5] * 10
    event = AuditEvent.objects.get(code=QualityEvent.ANSWER_SUBMITTED)
    assert event.actor == p.owner_a101 and event.after["unit"] == p.unit_a101.pk


def test_the_second_resident_of_a_flat_is_told_the_household_has_answered(survey):
    p = survey.p
    spouse, _resident = make_owner("spouse_a101", "王芳", "13800138009", p.unit_a101)
    services.answer_submit(
        actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers()
    )
    events = AuditEvent.objects.count()
    with pytest.raises(services.AlreadyAnswered, match="already answered"):
        services.answer_submit(
            actor=spouse, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers(1)
        )
    assert SurveyAnswer.objects.filter(campaign=survey.campaign).count() == 1
    assert AuditEvent.objects.count() == events
    assert not FollowUp.objects.exists()


def test_two_residents_answering_at_once_one_wins_by_the_unique_constraint(survey):
    """The race: both pass the "has the household answered?" check before either writes.
    The database's unique constraint lets one in and the other is told cleanly."""
    p = survey.p
    spouse, _resident = make_owner("spouse_a101", "王芳", "13800138009", p.unit_a101)
    services.answer_submit(
        actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers()
    )
    events = AuditEvent.objects.count()
    with (
        mock.patch.object(services, "has_answered", return_value=False),
        pytest.raises(services.AlreadyAnswered),
    ):
        services.answer_submit(
            actor=spouse, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers(1)
        )
    assert SurveyAnswer.objects.filter(campaign=survey.campaign).count() == 1
    assert AnswerItem.objects.filter(answer__campaign=survey.campaign).count() == 13
    assert AuditEvent.objects.count() == events


def test_the_neighbour_household_answers_on_its_own(survey):
    p = survey.p
    for owner, unit in ((p.owner_a101, p.unit_a101), (p.owner_a102, p.unit_a102)):
        services.answer_submit(
            actor=owner, campaign=survey.campaign, unit=unit, answers=survey.answers()
        )
    assert SurveyAnswer.objects.filter(campaign=survey.campaign).count() == 2


@pytest.mark.parametrize("who", ["owner_a102", "outsider", "clerk_a", "stranger"])
def test_nobody_answers_for_a_household_not_their_own(survey, who):
    p = survey.p
    with pytest.raises(Http404):
        services.answer_submit(
            actor=getattr(p, who),
            campaign=survey.campaign,
            unit=p.unit_a101,
            answers=survey.answers(),
        )
    assert not SurveyAnswer.objects.exists()


def test_a_former_resident_cannot_answer(survey, clock):
    p = survey.p
    Residency.objects.filter(resident=p.resident_a101).update(moved_out_on="2026-05-01")
    with pytest.raises(Http404):
        services.answer_submit(
            actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers()
        )


def _question(survey, kind, position=None):
    questions = survey.template.questions.filter(kind=kind)
    return questions.get(position=position) if position else questions.first()


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("rating", 6, "Choose from 1 to 5."),
        ("rating", 0, "Choose from 1 to 5."),
        ("rating", "5", "Choose from 1 to 5."),
        ("rating", True, "Choose from 1 to 5."),
        ("rating", None, "Please answer this question."),
        ("single", "不存在的选项", "Choose one of the options."),
        ("single", ["业主小程序/App"], "Choose one of the options."),
        ("multiple", ["安全秩序", "<script>"], "Choose among the options."),
        ("text", "长" * 1001, "At most 1000 characters (now 1001)."),
        ("text", "bad\x00text", "The text contains characters that are not allowed."),
        ("text", 42, "Enter text."),
    ],
)
def test_a_bad_answer_is_refused_on_its_question_and_nothing_is_written(
    survey, kind, value, message
):
    p = survey.p
    question = _question(survey, kind)
    answers = {**survey.answers(), str(question.pk): value}
    with pytest.raises(ValidationError) as refused:
        services.answer_submit(
            actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=answers
        )
    assert refused.value.message_dict == {f"answers.{question.pk}": [message]}
    assert not SurveyAnswer.objects.exists() and not AnswerItem.objects.exists()


def test_an_answer_to_a_question_of_another_survey_is_refused(survey):
    p = survey.p
    with pytest.raises(ValidationError) as refused:
        services.answer_submit(
            actor=p.owner_a101,
            campaign=survey.campaign,
            unit=p.unit_a101,
            answers={**survey.answers(), "999999": 5},
        )
    assert "answers" in refused.value.message_dict
    assert not SurveyAnswer.objects.exists()


def test_optional_questions_may_be_left_out_and_hostile_text_is_kept_as_text(survey):
    p = survey.p
    multiple, text = _question(survey, "multiple"), _question(survey, "text")
    answers = {**survey.answers(), str(multiple.pk): [], str(text.pk): "<script>alert(1)</script>"}
    answer = services.answer_submit(
        actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=answers
    )
    assert not answer.items.filter(question=multiple).exists()
    assert answer.items.get(question=text).text == "<script>alert(1)</script>"


def test_a_closed_or_draft_campaign_takes_no_answer(survey):
    p = survey.p
    services.campaign_close(actor=p.manager_a, campaign=survey.campaign)
    with pytest.raises(ValidationError, match="closed"):
        services.answer_submit(
            actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers()
        )
    assert not SurveyAnswer.objects.exists()


# ----------------------------------------------------------------------------- anonymity


def test_an_anonymous_answer_keeps_neither_the_person_nor_the_unit(anonymous_survey):
    p = anonymous_survey.p
    token = set_request_context(RequestContext(request_id="req-123", ip="10.1.2.3"))
    try:
        answer = services.answer_submit(
            actor=p.owner_a101,
            campaign=anonymous_survey.campaign,
            unit=p.unit_a101,
            answers=anonymous_survey.answers(attitude=1),
        )
    finally:
        reset_request_context(token)
    assert answer.unit is None and answer.respondent is None
    assert answer.building == p.building_a1
    assert answer.household_key == services.household_key(
        anonymous_survey.campaign.pk, p.unit_a101.pk
    )
    assert len(answer.household_key) == 64
    events = AuditEvent.objects.filter(
        code__in=[QualityEvent.ANSWER_SUBMITTED, QualityEvent.FOLLOW_UP_OPENED]
    )
    assert events.count() == 2
    for event in events:
        assert event.actor is None and event.actor_label == ""
        assert event.ip is None and event.request_id == ""
        assert event.target_id != str(answer.pk) or event.code == QualityEvent.FOLLOW_UP_OPENED
        text = f"{event.before} {event.after} {event.target_label}"
        assert "unit" not in (event.after or {})
        assert p.owner_a101.name not in text and p.unit_a101.label not in text


def test_an_anonymous_household_still_answers_only_once(anonymous_survey):
    p = anonymous_survey.p
    spouse, _resident = make_owner("spouse_a101", "王芳", "13800138009", p.unit_a101)
    services.answer_submit(
        actor=p.owner_a101,
        campaign=anonymous_survey.campaign,
        unit=p.unit_a101,
        answers=anonymous_survey.answers(),
    )
    with pytest.raises(services.AlreadyAnswered):
        services.answer_submit(
            actor=spouse,
            campaign=anonymous_survey.campaign,
            unit=p.unit_a101,
            answers=anonymous_survey.answers(),
        )
    assert services.has_answered(anonymous_survey.campaign, p.unit_a101.pk)
    assert not services.has_answered(anonymous_survey.campaign, p.unit_a102.pk)


# ----------------------------------------------------------------------------- follow-ups


def test_a_low_score_opens_a_follow_up_and_tells_the_managers(survey):
    p = survey.p
    answer = services.answer_submit(
        actor=p.owner_a101,
        campaign=survey.campaign,
        unit=p.unit_a101,
        answers=survey.answers(4, attitude=1, efficiency=2),
    )
    follow_up = FollowUp.objects.get()
    assert follow_up.answer == answer and follow_up.status == FollowUp.Status.OPEN
    assert follow_up.reason == "Service attitude 1★; Service efficiency 2★"
    told = set(
        Notification.objects.filter(kind="quality.low_score").values_list("recipient", flat=True)
    )
    assert told == {p.manager_a.pk, p.company_admin.pk}


def test_scores_above_the_threshold_open_no_follow_up(survey):
    p = survey.p
    services.answer_submit(
        actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers(3)
    )
    assert not FollowUp.objects.exists()


def test_the_company_threshold_decides_what_is_low(survey):
    p = survey.p
    QualitySettings.objects.create(company=p.company, low_score=1)
    services.answer_submit(
        actor=p.owner_a101,
        campaign=survey.campaign,
        unit=p.unit_a101,
        answers=survey.answers(content=2),
    )
    assert not FollowUp.objects.exists()
    services.answer_submit(
        actor=p.owner_a102,
        campaign=survey.campaign,
        unit=p.unit_a102,
        answers=survey.answers(content=1),
    )
    assert FollowUp.objects.get().reason == "Service content 1★"

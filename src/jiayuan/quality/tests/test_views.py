"""The pages: managers run campaigns and read results, the desk follows up low scores,
owners answer on their phone; everyone else is refused, and lists do not grow in queries."""

import pytest
from django.urls import reverse

from jiayuan.core.testing import make_owner
from jiayuan.quality import services
from jiayuan.quality.models import Campaign, FollowUp, SurveyAnswer, SurveyTemplate
from jiayuan.quality.tests.conftest import launched


def _get(p, who, name, *args):
    return p.client_for(getattr(p, who)).get(reverse(name, args=args))


def _answer_form(survey, rating=5, **by_dimension) -> dict:
    data = {}
    for key, value in survey.answers(rating, **by_dimension).items():
        data[f"q{key}"] = value
    return data


# ----------------------------------------------------------------------------- owners


def test_an_owner_sees_the_open_survey_and_answers_it_on_the_phone(survey):
    p = survey.p
    client = p.client_for(p.owner_a101)
    page = client.get(reverse("quality:my_surveys"))
    assert page.status_code == 200 and "Waiting for you" in page.content.decode()
    url = reverse("quality:owner_answer", args=[survey.campaign.pk, p.unit_a101.pk])
    form = client.get(url)
    assert form.status_code == 200 and 'class="qa-scale"' in form.content.decode()
    done = client.post(url, _answer_form(survey), follow=True)
    assert "Thank you!" in done.content.decode()
    assert SurveyAnswer.objects.get().respondent == p.owner_a101
    again = client.get(url)
    assert "Your household has already answered" in again.content.decode()


def test_the_second_resident_of_the_flat_sees_already_answered(survey):
    p = survey.p
    spouse, _resident = make_owner("spouse_a101", "王芳", "13800138009", p.unit_a101)
    url = reverse("quality:owner_answer", args=[survey.campaign.pk, p.unit_a101.pk])
    p.client_for(p.owner_a101).post(url, _answer_form(survey))
    page = p.client_for(spouse).post(url, _answer_form(survey, 1))
    assert "Your household has already answered" in page.content.decode()
    assert SurveyAnswer.objects.count() == 1 and not FollowUp.objects.exists()


def test_a_bad_answer_is_shown_on_its_question_and_nothing_is_saved(survey):
    p = survey.p
    url = reverse("quality:owner_answer", args=[survey.campaign.pk, p.unit_a101.pk])
    data = _answer_form(survey)
    rating = survey.template.questions.filter(kind="rating").first()
    data[f"q{rating.pk}"] = "9"
    single = survey.template.questions.get(kind="single")
    del data[f"q{single.pk}"]
    page = p.client_for(p.owner_a101).post(url, data)
    assert page.status_code == 200
    assert set(page.context["form"].errors) == {f"q{rating.pk}"}
    assert not SurveyAnswer.objects.exists()
    data[f"q{rating.pk}"] = "4"
    page = p.client_for(p.owner_a101).post(url, data)
    assert "Please answer this question." in page.content.decode()
    assert not SurveyAnswer.objects.exists()


@pytest.mark.parametrize("who", ["owner_a102", "manager_a", "outsider", "stranger"])
def test_nobody_else_reaches_an_owners_survey(survey, who):
    p = survey.p
    url = reverse("quality:owner_answer", args=[survey.campaign.pk, p.unit_a101.pk])
    client = p.client_for(getattr(p, who))
    assert client.get(url).status_code == 404
    assert client.post(url, _answer_form(survey)).status_code == 404
    assert not SurveyAnswer.objects.exists()


def test_the_owners_list_reads_in_a_fixed_number_of_queries(survey, django_assert_max_num_queries):
    p = survey.p
    client = p.client_for(p.owner_a101)
    client.get(reverse("quality:my_surveys"))
    for _ in range(3):
        launched(p, survey.template, estate=p.estate_a)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("quality:my_surveys"))
    assert page.content.decode().count("Waiting for you") == 4


# ----------------------------------------------------------------------------- managers


def test_a_manager_creates_launches_and_closes_a_campaign(survey):
    p = survey.p
    client = p.client_for(p.manager_a)
    page = client.get(reverse("quality:campaign_create"))
    assert page.status_code == 200
    response = client.post(
        reverse("quality:campaign_create"),
        {
            "template": survey.template.pk,
            "title": "二季度满意度调查",
            "scope": "estate",
            "period_start": "2026-04-01",
            "period_end": "2026-06-30",
            "opens_at": "2026-05-11T10:00",
            "deadline": "2026-05-30T18:00",
            "reminder_count": "1",
            "reminder_days_before": "3",
        },
    )
    campaign = Campaign.objects.get(title="二季度满意度调查")
    assert response.status_code == 302 and campaign.status == "draft"
    client.post(reverse("quality:campaign_launch", args=[campaign.pk]))
    assert Campaign.objects.get(pk=campaign.pk).households_asked == 2
    client.post(reverse("quality:campaign_close", args=[campaign.pk]))
    assert Campaign.objects.get(pk=campaign.pk).status == "closed"


def test_a_bad_campaign_form_says_why_and_saves_nothing(survey):
    p = survey.p
    count = Campaign.objects.count()
    page = p.client_for(p.manager_a).post(
        reverse("quality:campaign_create"),
        {
            "template": survey.template.pk,
            "scope": "all",  # not offered to an estate manager
            "period_start": "2026-06-30",
            "period_end": "2026-04-01",
            "opens_at": "nonsense",
            "deadline": "2026-05-30T18:00",
            "reminder_count": "9",
            "reminder_days_before": "3",
        },
    )
    assert page.status_code == 200
    assert page.context["form"].errors.keys() >= {"scope", "opens_at", "reminder_count"}
    assert Campaign.objects.count() == count


def test_the_results_page_shows_the_csi_and_the_answers(survey):
    p = survey.p
    services.answer_submit(
        actor=p.owner_a101, campaign=survey.campaign, unit=p.unit_a101, answers=survey.answers(4)
    )
    page = _get(p, "manager_a", "quality:campaign_detail", survey.campaign.pk)
    text = page.content.decode()
    assert page.status_code == 200
    assert "75.0" in text and "50%" in text and "1号楼" in text
    assert "电梯间再干净些就好了" in text and p.unit_a101.label in text


def test_the_results_of_an_anonymous_campaign_never_say_who_answered(anonymous_survey):
    p = anonymous_survey.p
    services.answer_submit(
        actor=p.owner_a101,
        campaign=anonymous_survey.campaign,
        unit=p.unit_a101,
        answers=anonymous_survey.answers(attitude=1),
    )
    follow_up = FollowUp.objects.get()
    pages = [
        _get(p, "manager_a", "quality:campaign_detail", anonymous_survey.campaign.pk),
        _get(p, "clerk_a", "quality:follow_up_list"),
        _get(p, "clerk_a", "quality:follow_up_detail", follow_up.pk),
    ]
    for page in pages:
        text = page.content.decode()
        assert page.status_code == 200
        assert "电梯间再干净些就好了" in text or "anonymous" in text.lower()
        for secret in (p.unit_a101.label, "101", p.owner_a101.name, p.resident_a101.mobile):
            assert secret not in text
    api = p.client_for(p.clerk_a).get("/api/v1/quality/follow-ups").json()
    assert api["items"][0]["unit_label"] is None and api["items"][0]["anonymous"] is True
    results = p.client_for(p.manager_a).get(
        f"/api/v1/quality/campaigns/{anonymous_survey.campaign.pk}/results"
    )
    assert p.unit_a101.label not in results.content.decode()


@pytest.mark.parametrize(
    ("name", "needs_pk"),
    [
        ("quality:campaign_list", False),
        ("quality:campaign_create", False),
        ("quality:template_list", False),
        ("quality:settings", False),
        ("quality:campaign_detail", True),
    ],
)
@pytest.mark.parametrize("who", ["clerk_a", "technician_a", "owner_a101", "stranger"])
def test_manager_pages_are_not_there_for_others(survey, name, needs_pk, who):
    args = [survey.campaign.pk] if needs_pk else []
    assert _get(survey.p, who, name, *args).status_code == 404


def test_an_outsider_sees_no_campaign_of_the_company(survey):
    p = survey.p
    assert _get(p, "outsider", "quality:campaign_detail", survey.campaign.pk).status_code == 404
    assert _get(p, "outsider", "quality:template_edit", survey.template.pk).status_code == 404
    page = _get(p, "outsider", "quality:campaign_list")
    assert page.status_code == 200 and survey.campaign.title not in page.content.decode()
    client = p.client_for(p.outsider)
    assert (
        client.post(reverse("quality:campaign_close", args=[survey.campaign.pk])).status_code == 404
    )
    assert (
        client.post(reverse("quality:template_copy", args=[survey.template.pk])).status_code == 404
    )
    assert Campaign.objects.get(pk=survey.campaign.pk).status == "open"
    assert SurveyTemplate.objects.count() == 1


def test_the_campaign_list_reads_in_a_fixed_number_of_queries(
    survey, django_assert_max_num_queries
):
    p = survey.p
    client = p.client_for(p.manager_a)
    client.get(reverse("quality:campaign_list"))
    for _ in range(4):
        launched(p, survey.template, estate=p.estate_a)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("quality:campaign_list"))
    assert page.content.decode().count("/quality/campaigns/") >= 5


def test_a_template_is_edited_with_its_questions(survey):
    p = survey.p
    client = p.client_for(p.manager_a)
    response = client.post(
        reverse("quality:template_create"),
        {
            "title": "物业服务评价",
            "intro": "",
            "q-TOTAL_FORMS": "2",
            "q-INITIAL_FORMS": "0",
            "q-0-text": "总体满意度",
            "q-0-kind": "rating",
            "q-0-dimension": "experience",
            "q-0-area": "general",
            "q-0-required": "on",
            "q-1-text": "联系方式",
            "q-1-kind": "single",
            "q-1-area": "general",
            "q-1-options": "电话\n小程序",
        },
    )
    template = SurveyTemplate.objects.get(title="物业服务评价")
    assert response.status_code == 302
    assert [q.options for q in template.questions.all()] == [[], ["电话", "小程序"]]
    bad = client.post(
        reverse("quality:template_edit", args=[template.pk]),
        {
            "title": "物业服务评价",
            "q-TOTAL_FORMS": "1",
            "q-INITIAL_FORMS": "0",
            "q-0-text": "服务态度",
            "q-0-kind": "rating",
            "q-0-area": "general",
        },
    )
    assert "a rating question measures one of the four dimensions" in bad.content.decode()
    assert template.questions.count() == 2
    frozen = _get(p, "manager_a", "quality:template_edit", survey.template.pk)
    assert (
        "Make a copy" in frozen.content.decode() and "q-TOTAL_FORMS" not in frozen.content.decode()
    )


def test_the_default_template_button(survey):
    p = survey.p
    p.client_for(p.manager_a).post(reverse("quality:template_default"))
    assert SurveyTemplate.objects.filter(title="业主满意度季度调查").count() == 2


def test_settings_are_saved_and_bad_values_refused(survey):
    p = survey.p
    client = p.client_for(p.company_admin)
    values = {
        "weight_content": "2",
        "weight_attitude": "1",
        "weight_efficiency": "1",
        "weight_experience": "1",
        "low_score": "3",
    }
    assert client.post(reverse("quality:settings"), values).status_code == 302
    assert services.quality_settings(p.company.pk).weight_content == 2
    page = client.post(reverse("quality:settings"), {**values, "low_score": "7"})
    assert page.status_code == 200 and "low_score" in page.context["form"].errors
    zero = {**values, **{k: "0" for k in values if k.startswith("weight")}}
    page = client.post(reverse("quality:settings"), zero)
    assert "At least one dimension must weigh something." in page.content.decode()
    assert services.quality_settings(p.company.pk).low_score == 3


# ----------------------------------------------------------------------------- the desk


def test_the_desk_records_a_call_from_its_list(survey):
    p = survey.p
    services.answer_submit(
        actor=p.owner_a101,
        campaign=survey.campaign,
        unit=p.unit_a101,
        answers=survey.answers(content=1),
    )
    follow_up = FollowUp.objects.get()
    client = p.client_for(p.clerk_a)
    listing = client.get(reverse("quality:follow_up_list"))
    assert "Service content 1★" in listing.content.decode()
    detail = client.get(reverse("quality:follow_up_detail", args=[follow_up.pk]))
    assert p.resident_a101.mobile in detail.content.decode()
    url = reverse("quality:follow_up_detail", args=[follow_up.pk])
    bad = client.post(url, {"action": "record", "outcome": "reviewed"})
    assert bad.status_code == 200 and FollowUp.objects.get().status == "open"
    client.post(url, {"action": "record", "outcome": "unreachable", "note": "无人接听"})
    assert FollowUp.objects.get().outcome == "unreachable"


@pytest.mark.parametrize("who", ["clerk_b", "outsider", "technician_a", "owner_a101"])
def test_follow_ups_are_the_estates_desks(survey, who):
    p = survey.p
    services.answer_submit(
        actor=p.owner_a101,
        campaign=survey.campaign,
        unit=p.unit_a101,
        answers=survey.answers(content=1),
    )
    follow_up = FollowUp.objects.get()
    client = p.client_for(getattr(p, who))
    url = reverse("quality:follow_up_detail", args=[follow_up.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "record", "outcome": "satisfied"}).status_code == 404
    listing = client.get(reverse("quality:follow_up_list"))
    assert listing.status_code in (200, 404)
    assert "Service content 1★" not in listing.content.decode()
    assert FollowUp.objects.get().status == "open"


def test_the_follow_up_list_reads_in_a_fixed_number_of_queries(
    survey, django_assert_max_num_queries
):
    p = survey.p
    client = p.client_for(p.clerk_a)
    services.answer_submit(
        actor=p.owner_a101,
        campaign=survey.campaign,
        unit=p.unit_a101,
        answers=survey.answers(content=1),
    )
    client.get(reverse("quality:follow_up_list"))
    services.answer_submit(
        actor=p.owner_a102,
        campaign=survey.campaign,
        unit=p.unit_a102,
        answers=survey.answers(content=1),
    )
    with django_assert_max_num_queries(10):
        page = client.get(reverse("quality:follow_up_list"))
    assert page.content.decode().count("Service content 1★") == 2

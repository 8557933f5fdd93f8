"""The CSI computed by hand on a small data set: two of three households answer a survey of
five rating questions, and the service desk has one owner rating and one automatic one."""

import datetime as dt

import pytest

from jiayuan.core.testing import make_owner, make_unit
from jiayuan.org.models import Unit
from jiayuan.quality import selectors, services
from jiayuan.quality.models import QualitySettings
from jiayuan.quality.tests.conftest import launched, lived_in
from jiayuan.servicedesk import services as desk
from jiayuan.servicedesk.models import Rating

Q2 = {"start": dt.date(2026, 4, 1), "end": dt.date(2026, 7, 1)}
QUESTIONS = [
    {"kind": "rating", "text": "安全", "dimension": "content"},
    {"kind": "rating", "text": "保洁", "dimension": "content"},
    {"kind": "rating", "text": "态度", "dimension": "attitude"},
    {"kind": "rating", "text": "效率", "dimension": "efficiency"},
    {"kind": "rating", "text": "总体", "dimension": "experience"},
]


@pytest.fixture
def dataset(db, clock):
    from jiayuan.core.testing import build_personas

    p = build_personas()
    unit_a103 = make_unit(p.building_a1, "103")
    make_owner("owner_a103", "钱七", "13800138003", unit_a103)
    lived_in(p)
    Unit.objects.filter(pk=unit_a103.pk).update(status=Unit.Status.OCCUPIED)
    template = services.template_create(
        actor=p.manager_a, company=p.company, title="测试问卷", questions=QUESTIONS
    )
    campaign = launched(p, template, estate=p.estate_a)
    ids = [str(q.pk) for q in template.questions.order_by("position")]
    for owner, unit, ratings in (
        (p.owner_a101, p.unit_a101, [5, 3, 4, 2, 5]),
        (p.owner_a102, p.unit_a102, [4, 4, 2, 3, 4]),
    ):
        services.answer_submit(
            actor=owner, campaign=campaign, unit=unit, answers=dict(zip(ids, ratings, strict=True))
        )
    rated, automatic = (
        desk.request_create(
            actor=p.clerk_a,
            estate=p.estate_a,
            kind="repair",
            category="plumbing",
            description=text,
            unit=p.unit_a101,
            reporter=p.resident_a101,
        )
        for text in ("厨房漏水", "阳台灯不亮")
    )
    Rating.objects.create(request=rated, overall=5, timeliness=5, attitude=5, quality=1)
    Rating.objects.create(
        request=automatic, overall=5, timeliness=5, attitude=5, quality=5, is_automatic=True
    )
    return p


def test_the_survey_alone(dataset):
    p = dataset
    result = selectors.csi(
        p.manager_a, company_id=p.company.pk, include_service_ratings=False, **Q2
    )
    # content (5+3+4+4)/4 = 4 → 75; attitude 3 → 50; efficiency 2.5 → 37.5; experience 4.5 → 87.5
    assert result.dimensions == {
        "content": 75.0,
        "attitude": 50.0,
        "efficiency": 37.5,
        "experience": 87.5,
    }
    assert result.score == pytest.approx((75 + 50 + 37.5 + 87.5) / 4)
    assert (result.survey_answers, result.households_asked) == (2, 3)
    assert result.response_rate == pytest.approx(2 / 3)
    assert result.service_ratings == 0


def test_owner_ratings_of_requests_join_the_dimensions_and_automatic_ones_do_not(dataset):
    p = dataset
    result = selectors.csi(p.manager_a, company_id=p.company.pk, **Q2)
    # Pooled: quality 1 → content, attitude 5, timeliness 5 → efficiency, overall 5 → experience.
    expected = {
        "content": (17 / 5 - 1) / 4 * 100,
        "attitude": (11 / 3 - 1) / 4 * 100,
        "efficiency": (10 / 3 - 1) / 4 * 100,
        "experience": (14 / 3 - 1) / 4 * 100,
    }
    assert result.dimensions == pytest.approx(expected)
    assert result.score == pytest.approx(sum(expected.values()) / 4)
    assert result.service_ratings == 1


def test_the_company_weights_the_dimensions(dataset):
    p = dataset
    QualitySettings.objects.create(company=p.company, weight_content=2, weight_experience=0)
    result = selectors.csi(
        p.manager_a, company_id=p.company.pk, include_service_ratings=False, **Q2
    )
    assert result.score == pytest.approx((2 * 75 + 50 + 37.5) / 4)


def test_a_rating_maps_to_0_to_100():
    assert [selectors.rating_to_score(r) for r in range(1, 6)] == [0, 25, 50, 75, 100]


def test_another_period_has_no_score(dataset):
    p = dataset
    result = selectors.csi(
        p.manager_a, company_id=p.company.pk, start=dt.date(2026, 1, 1), end=dt.date(2026, 4, 1)
    )
    assert result.score is None and result.survey_answers == 0 and result.response_rate is None


def test_by_estate_and_by_building(dataset):
    p = dataset
    rows = selectors.csi_by(
        p.company_admin, company_id=p.company.pk, by="estate", include_service_ratings=False, **Q2
    )
    by_name = {name: result for _pk, name, result in rows}
    assert set(by_name) == {"阳光花园", "金融中心"}
    assert by_name["阳光花园"].score == pytest.approx(62.5)
    assert by_name["金融中心"].score is None
    [(pk, name, building)] = selectors.csi_by(
        p.manager_a, company_id=p.company.pk, by="building", estate_id=p.estate_a.pk, **Q2
    )
    assert (pk, name) == (p.building_a1.pk, "1号楼")
    assert building.score == pytest.approx(
        selectors.csi(p.manager_a, company_id=p.company.pk, **Q2).score
    )
    assert building.households_asked == 3


@pytest.mark.parametrize("who", ["outsider", "clerk_b", "technician_a", "owner_a101", "stranger"])
def test_people_who_may_not_read_estate_a_get_nothing_of_it(dataset, who):
    p = dataset
    result = selectors.csi(getattr(p, who), company_id=p.company.pk, **Q2)
    assert result.score is None and result.survey_answers == 0 and result.service_ratings == 0
    rows = selectors.csi_by(getattr(p, who), company_id=p.company.pk, by="estate", **Q2)
    assert all(r.score is None for _pk, _name, r in rows)
    assert "阳光花园" not in [name for _pk, name, _r in rows]


def test_the_csi_takes_a_few_queries_however_many_estates(dataset, django_assert_max_num_queries):
    p = dataset
    with django_assert_max_num_queries(7):
        selectors.csi(p.company_admin, company_id=p.company.pk, **Q2)
    with django_assert_max_num_queries(8):
        selectors.csi_by(p.company_admin, company_id=p.company.pk, by="building", **Q2)

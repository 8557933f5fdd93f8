"""The demo's satisfaction surveys: the default template; last quarter's campaign in each
estate, closed, answered by about 40% of the households (most satisfied, a few very
unhappy, whose follow-ups the desk has partly done); and this quarter's campaign of every
estate, open, with its first answers. The demo owners with portal accounts have not
answered this quarter's yet, so their phone shows a survey waiting.

Campaigns go through the services; the answers are bulk-created (hundreds of households),
with the same household keys and low-score rule as the services use."""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from jiayuan.accounts.models import User
from jiayuan.core.roles import Role
from jiayuan.org.models import Company, Membership, Resident
from jiayuan.quality import services
from jiayuan.quality.models import (
    AnswerItem,
    Campaign,
    CampaignHousehold,
    FollowUp,
    QualitySettings,
    QuestionKind,
    SurveyAnswer,
    SurveyTemplate,
)
from jiayuan.sla.demo import DEMO_ADMIN

SEED = 20260
PAST_SHARE, CURRENT_SHARE = 0.4, 0.15
# How satisfied a household is overall: most are content, a few are very unhappy.
MOODS = ((4.6, 32), (4.1, 38), (3.5, 22), (2.6, 5), (1.6, 3))
# Owners are usually kinder about attitude than about how fast things get done.
DIMENSION_BIAS = {"content": 0.05, "attitude": 0.25, "efficiency": -0.35, "experience": 0.0}
COMMENTS = (
    "希望晚上多巡逻几次，车库有点暗。",
    "保洁阿姨很负责，楼道一直很干净。",
    "报修响应挺快，师傅态度也好。",
    "小区绿化可以再多修剪一下。",
    "快递柜附近经常堆放杂物，希望清理。",
    "电梯偶尔有异响，请安排检查。",
    "客服电话有时候打不通。",
)
FOLLOW_UP_NOTES = (
    "已电话回访，业主对改进措施表示认可。",
    "已致歉并说明整改计划，业主表示理解。",
)


def build_quality_demo(company: Company) -> None:
    rng = random.Random(SEED)
    admin = User.objects.get(username=DEMO_ADMIN)
    template = services.template_create_default(actor=admin, company=company)
    now = timezone.now()
    this_start, _this_end = services.current_quarter()
    past_start, past_end = services.current_quarter(this_start - timedelta(days=1))
    closes = timezone.make_aware(datetime.combine(past_end, time(18)))
    for estate in company.estates.order_by("pk"):
        campaign = services.campaign_create(
            actor=admin,
            company=company,
            template=template,
            estate=estate,
            title=f"{estate.name} {_quarter_name(past_start)}业主满意度调查",
            period_start=past_start,
            period_end=past_end,
            deadline=now + timedelta(days=1),
        )
        services.campaign_launch(actor=admin, campaign=campaign)
        # Back-dated: it ran during last quarter and closed at its end.
        opened = closes - timedelta(days=25)
        Campaign.objects.filter(pk=campaign.pk).update(
            opens_at=opened, launched_at=opened, invited_at=opened, deadline=closes
        )
        campaign.refresh_from_db()
        _answer(rng, campaign, PAST_SHARE, opened, closes, skip_portal_owners=False)
        services.campaign_close(actor=admin, campaign=campaign)
        Campaign.objects.filter(pk=campaign.pk).update(closed_at=closes)
        _do_some_follow_ups(rng, company, campaign)
    opened = now - timedelta(days=6)
    current = services.campaign_create(
        actor=admin,
        company=company,
        template=template,
        title=f"{_quarter_name(this_start)}业主满意度调查",
        opens_at=opened,
        deadline=now + timedelta(days=14),
    )
    services.campaign_launch(actor=admin, campaign=current)
    _answer(rng, current, CURRENT_SHARE, opened, now, skip_portal_owners=True)


def _quarter_name(start) -> str:
    return f"{start:%Y}年第{(start.month + 2) // 3}季度"


def _answer(rng, campaign, share, start, end, *, skip_portal_owners: bool) -> None:
    households = list(
        campaign.households.order_by("unit_id").values_list("unit_id", "building_id", "estate_id")
    )
    if skip_portal_owners:
        online = set(
            Resident.objects.filter(company_id=campaign.company_id, user__isnull=False).values_list(
                "residencies__unit_id", flat=True
            )
        )
        households = [h for h in households if h[0] not in online]
    chosen = rng.sample(households, round(len(households) * share))
    questions = list(campaign.template.questions.all())
    span = (end - start).total_seconds()
    answers, planned = [], []
    # Each estate (and each quarter) a little better or worse than the other.
    estate_bias = {estate_id: rng.uniform(-0.25, 0.2) for _u, _b, estate_id in chosen}
    for unit_id, building_id, estate_id in sorted(chosen):
        mood = rng.choices([m for m, _w in MOODS], weights=[w for _m, w in MOODS])[0]
        mood += estate_bias[estate_id]
        answers.append(
            SurveyAnswer(
                campaign=campaign,
                estate_id=estate_id,
                building_id=building_id,
                household_key=services.household_key(campaign.pk, unit_id),
                unit_id=None if campaign.anonymous else unit_id,
                submitted_at=start + timedelta(seconds=rng.uniform(0, span)),
            )
        )
        planned.append([_item(rng, question, mood) for question in questions])
    SurveyAnswer.objects.bulk_create(answers, batch_size=500)
    items = []
    threshold = services.low_score_threshold(campaign.company_id)
    follow_ups = []
    for answer, answer_items in zip(answers, planned, strict=True):
        kept = [item for item in answer_items if item is not None]
        for item in kept:
            item.answer = answer
        items.extend(kept)
        reason = services.low_score_reason(kept, threshold)
        if reason:
            follow_ups.append(
                FollowUp(
                    answer=answer,
                    estate_id=answer.estate_id,
                    reason=reason,
                    created_at=answer.submitted_at,
                )
            )
    AnswerItem.objects.bulk_create(items, batch_size=1000)
    FollowUp.objects.bulk_create(follow_ups)


def _item(rng, question, mood: float) -> AnswerItem | None:
    if question.kind == QuestionKind.RATING:
        mood += DIMENSION_BIAS[question.dimension]
        rating = min(5, max(1, round(rng.gauss(mood, 0.45))))
        return AnswerItem(question=question, dimension=question.dimension, rating=rating)
    if question.kind == QuestionKind.SINGLE:
        return AnswerItem(question=question, choices=[rng.choice(question.options)])
    if question.kind == QuestionKind.MULTIPLE:
        if mood > 4.2 or rng.random() < 0.3:
            return None
        picked = rng.sample(question.options, rng.randint(1, 2))
        return AnswerItem(question=question, choices=[o for o in question.options if o in picked])
    if rng.random() < 0.25:
        return AnswerItem(question=question, text=rng.choice(COMMENTS))
    return None


def _do_some_follow_ups(rng, company, campaign) -> None:
    """About two in three of last quarter's low scores were called back by the desk."""
    desk = (
        Membership.objects.filter(company=company, role=Role.SERVICE_DESK, is_active=True)
        .select_related("user")
        .order_by("user_id")
    )
    by_estate = {m.estate_id: m.user for m in desk}
    for follow_up in FollowUp.objects.filter(answer__campaign=campaign).order_by("pk"):
        clerk = by_estate.get(follow_up.estate_id)
        if clerk is None or rng.random() > 0.66:
            continue
        services.follow_up_record(
            actor=clerk,
            follow_up=follow_up,
            outcome=rng.choice(services.NAMED_OUTCOMES),
            note=rng.choice(FOLLOW_UP_NOTES),
        )


def delete_quality_demo(company: Company) -> None:
    FollowUp.objects.filter(estate__company=company).delete()
    SurveyAnswer.objects.filter(campaign__company=company).delete()
    CampaignHousehold.objects.filter(campaign__company=company).delete()
    Campaign.objects.filter(company=company).delete()
    SurveyTemplate.objects.filter(company=company).delete()
    QualitySettings.objects.filter(company=company).delete()

"""Reads of the quality app, all through restrict(): the CSI (for the dashboard and the
results pages), campaign lists and results, the owner's open surveys, the desk's
follow-ups.

The CSI. A rating r of 1..5 becomes (r - 1) / 4 × 100: "very dissatisfied" is 0 and "very
satisfied" is 100, so the index uses its whole 0–100 range (r / 5 × 100 would give 20 to
a household that gave every question the lowest mark). The mapping is linear, so it is
applied to the mean rating. A dimension's score is the mean of all its ratings — the
survey's rating questions and, where asked, the owners' ratings of finished service
requests (quality → content, attitude → attitude, timeliness → efficiency, overall →
experience) pooled together. Automatic ratings (given by the system when an owner did not
rate) are left out: they are not an opinion, and counting them would lift the index in
the estates where owners rate least. The CSI is the weighted mean of the dimensions that
have ratings, with the company's weights (equal by default).

Survey answers count in a window [start, end) by their campaign's period (a quarter's
survey belongs to that quarter, whenever it was answered), so answers and households asked
come from the same campaigns and the response rate is a true fraction; service ratings
count by when they were given."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from jiayuan.core.access import VIEW, can_in_estate
from jiayuan.org.models import Building, Estate
from jiayuan.quality.models import (
    ANSWER,
    AnswerItem,
    Campaign,
    CampaignHousehold,
    Dimension,
    FollowUp,
    QuestionKind,
    SurveyAnswer,
    SurveyTemplate,
    current_units_of,
)
from jiayuan.quality.services import household_key, is_open_for_answers, quality_settings
from jiayuan.servicedesk.models import Rating

# The service-desk rating's fields that feed each dimension.
RATING_FIELDS = {
    Dimension.CONTENT: "quality",
    Dimension.ATTITUDE: "attitude",
    Dimension.EFFICIENCY: "timeliness",
    Dimension.EXPERIENCE: "overall",
}
BY_ESTATE, BY_BUILDING = "estate", "building"
TEXT_ANSWERS_SHOWN = 50


def rating_to_score(mean_rating: float) -> float:
    """A mean rating on the 1..5 scale as a score on 0..100 (see the module's note)."""
    return (mean_rating - 1) / 4 * 100


@dataclass
class CsiResult:
    score: float | None
    dimensions: dict[str, float | None]
    survey_answers: int
    households_asked: int
    response_rate: float | None
    service_ratings: int


@dataclass
class _Tally:
    """Sums and counts of ratings per dimension for one group (an estate, a building...)."""

    sums: Counter = field(default_factory=Counter)
    counts: Counter = field(default_factory=Counter)
    answers: int = 0
    households: int = 0
    service_ratings: int = 0

    def add(self, dimension: str, total: int, count: int) -> None:
        self.sums[dimension] += total or 0
        self.counts[dimension] += count or 0

    def result(self, weights: dict[str, int]) -> CsiResult:
        dimensions = {
            d: rating_to_score(self.sums[d] / self.counts[d]) if self.counts[d] else None
            for d in Dimension.values
        }
        weighed = [(weights[d], s) for d, s in dimensions.items() if s is not None and weights[d]]
        total_weight = sum(w for w, _s in weighed)
        return CsiResult(
            score=sum(w * s for w, s in weighed) / total_weight if total_weight else None,
            dimensions=dimensions,
            survey_answers=self.answers,
            households_asked=self.households,
            response_rate=self.answers / self.households if self.households else None,
            service_ratings=self.service_ratings,
        )


def _moment(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    return timezone.make_aware(datetime.combine(value, time.min))


def _day(value: date | datetime) -> date:
    return timezone.localdate(_moment(value)) if isinstance(value, datetime) else value


def _estates_in_view(user, company_id: int) -> list[int]:
    """The company's estates where the user may read survey results."""
    return [
        estate.pk
        for estate in Estate.objects.filter(company_id=company_id)
        if can_in_estate(user, SurveyAnswer, VIEW, estate)
    ]


def _campaigns_in(company_id: int, start: date, end: date):
    """Launched campaigns whose period overlaps [start, end)."""
    return Campaign.objects.filter(
        company_id=company_id,
        status__in=(Campaign.Status.OPEN, Campaign.Status.CLOSED),
        period_start__lt=end,
        period_end__gte=start,
    ).values("pk")


def _grouped(queryset, keys: list[str], **aggregates) -> list[dict]:
    """Rows of the aggregates per key; one row for all when there is no key (values()
    without fields would group by every column, one row per record)."""
    if keys:
        return list(queryset.values(*keys).annotate(**aggregates))
    return [queryset.aggregate(**aggregates)]


def _tally(
    user,
    *,
    company_id: int,
    campaigns,
    group: str | None,
    estate_id: int | None = None,
    building_id: int | None = None,
    ratings_between: tuple[datetime, datetime] | None = None,
    service_sums: dict | None = None,
) -> dict:
    """group key → _Tally, in four grouped queries (items, answers, households, ratings).
    `group` is "estate_id", "building_id" or None (one group, key None)."""
    place = {}
    if estate_id is not None:
        place["estate_id"] = estate_id
    if building_id is not None:
        place["building_id"] = building_id
    keys = [group] if group else []
    tallies: dict = defaultdict(_Tally)
    # Staff results only: an owner may see their own answer, but it is no CSI of theirs.
    estates = _estates_in_view(user, company_id)

    def answer_scope(model, prefix=""):
        return model.objects.restrict(user, VIEW).filter(
            **{f"{prefix}campaign__in": campaigns, f"{prefix}estate_id__in": estates},
            **{f"{prefix}{name}": value for name, value in place.items()},
        )

    items = (
        answer_scope(AnswerItem, "answer__")
        .filter(rating__isnull=False)
        .exclude(dimension="")
        .values(*[f"answer__{k}" for k in keys], "dimension")
        .annotate(total=Sum("rating"), n=Count("id"))
    )
    for row in items:
        key = row[f"answer__{group}"] if group else None
        tallies[key].add(row["dimension"], row["total"], row["n"])
    for row in _grouped(answer_scope(SurveyAnswer), keys, n=Count("id")):
        tallies[row[group] if group else None].answers += row["n"]
    for row in _grouped(answer_scope(CampaignHousehold), keys, n=Count("id")):
        tallies[row[group] if group else None].households += row["n"]
    if service_sums is not None:
        # Already summed by the caller (the dashboards' rollups): no query over the ratings.
        tally = tallies[None]
        tally.service_ratings += service_sums["n"]
        for dimension, name in RATING_FIELDS.items():
            tally.add(dimension, service_sums[name], service_sums["n"])
    elif ratings_between is not None:
        start, end = ratings_between
        ratings = Rating.objects.restrict(user, VIEW).filter(
            request__company_id=company_id,
            request__estate_id__in=estates,
            is_automatic=False,
            rated_at__gte=start,
            rated_at__lt=end,
            **{f"request__{name}": value for name, value in place.items()},
        )
        sums = {f"sum_{name}": Sum(name) for name in RATING_FIELDS.values()}
        for row in _grouped(ratings, [f"request__{k}" for k in keys], n=Count("id"), **sums):
            key = row[f"request__{group}"] if group else None
            if group and key is None:
                continue  # a rating of a request in no building has no row in a building table
            tally = tallies[key]
            tally.service_ratings += row["n"]
            for dimension, name in RATING_FIELDS.items():
                tally.add(dimension, row[f"sum_{name}"], row["n"])
    return tallies


def csi(
    user,
    *,
    company_id: int,
    start: date | datetime,
    end: date | datetime,
    estate_id: int | None = None,
    building_id: int | None = None,
    include_service_ratings: bool = True,
    service_sums: dict | None = None,
) -> CsiResult:
    """The CSI of the company (or one estate, or one building) over [start, end): dates
    are whole local days, so end=date(2026, 7, 1) ends with June 30. Only what the user may
    read counts; to someone who may read nothing of the company it is an empty result.

    `service_sums` ({"n": ratings, and the sum of each of RATING_FIELDS' fields}) gives the
    owners' service ratings already added up, as the dashboards keep them, instead of
    reading the ratings."""
    begins, ends = _moment(start), _moment(end)
    tallies = _tally(
        user,
        company_id=company_id,
        campaigns=_campaigns_in(company_id, _day(start), _day(end)),
        group=None,
        estate_id=estate_id,
        building_id=building_id,
        ratings_between=(begins, ends) if include_service_ratings else None,
        service_sums=service_sums if include_service_ratings else None,
    )
    return tallies[None].result(quality_settings(company_id).weights)


def csi_by(
    user,
    *,
    company_id: int,
    start: date | datetime,
    end: date | datetime,
    by: str = BY_ESTATE,
    estate_id: int | None = None,
    include_service_ratings: bool = True,
) -> list[tuple[int, str, CsiResult]]:
    """[(estate or building id, its name, CsiResult)] for each estate (or each building,
    of one estate when estate_id is given) the user may read, in name order."""
    if by not in (BY_ESTATE, BY_BUILDING):
        raise ValueError(f"csi_by: by is 'estate' or 'building', not {by!r}")
    tallies = _tally(
        user,
        company_id=company_id,
        campaigns=_campaigns_in(company_id, _day(start), _day(end)),
        group=f"{by}_id",
        estate_id=estate_id,
        ratings_between=(_moment(start), _moment(end)) if include_service_ratings else None,
    )
    weights = quality_settings(company_id).weights
    seen = _estates_in_view(user, company_id)
    if by == BY_ESTATE:
        places = Estate.objects.filter(pk__in=seen)
    else:
        places = Building.objects.filter(estate_id__in=seen)
        if estate_id is not None:
            places = places.filter(estate_id=estate_id)
    return [
        (place.pk, place.name, tallies[place.pk].result(weights))
        for place in places.order_by("name", "pk")
    ]


# ----------------------------------------------------------------------------- staff pages


def template_list(user, company_id: int | None = None):
    templates = SurveyTemplate.objects.restrict(user, VIEW).annotate(
        question_count=Count("questions", distinct=True),
        campaign_count=Count("campaigns", distinct=True),
    )
    if company_id is not None:
        templates = templates.filter(company_id=company_id)
    return templates.order_by("-created_at", "-id")


def campaign_list(user, *, estate_id: int | None = None):
    """The campaigns the user may see (of one estate: its own and the company-wide ones),
    each with `answer_count`."""
    campaigns = Campaign.objects.restrict(user, VIEW)
    if estate_id is not None:
        campaigns = campaigns.filter(estates__id=estate_id)
    return (
        campaigns.select_related("estate", "template")
        .annotate(answer_count=Count("answers", distinct=True))
        .order_by("-period_start", "-id")
    )


@dataclass
class QuestionResult:
    question: object
    # Rating: [(1, n), ..., (5, n)]; choices: [(option, n), ...].
    counts: list[tuple]
    answered: int
    mean: float | None = None

    @property
    def widest(self) -> int:
        return max((n for _label, n in self.counts), default=0) or 1


@dataclass
class CampaignResults:
    campaign: Campaign
    overall: CsiResult
    buildings: list[tuple[int, str, CsiResult]]
    questions: list[QuestionResult]
    texts: list[dict]


def campaign_results(user, campaign: Campaign) -> CampaignResults:
    """What the results page and the API show of one campaign the user may see: only the
    answers of the estates they may read. Never who answered an anonymous campaign."""
    campaigns = Campaign.objects.filter(pk=campaign.pk).values("pk")
    weights = quality_settings(campaign.company_id).weights
    overall = _tally(user, company_id=campaign.company_id, campaigns=campaigns, group=None)
    by_building = _tally(
        user, company_id=campaign.company_id, campaigns=campaigns, group="building_id"
    )
    names = dict(
        Building.objects.filter(pk__in=[k for k in by_building if k is not None]).values_list(
            "pk", "name"
        )
    )
    buildings = sorted(
        ((pk, names.get(pk, ""), tally.result(weights)) for pk, tally in by_building.items()),
        key=lambda row: row[1],
    )
    items = AnswerItem.objects.restrict(user, VIEW).filter(answer__campaign=campaign)
    questions = list(campaign.template.questions.all())
    ratings: dict = defaultdict(Counter)
    for question_id, rating, n in (
        items.filter(rating__isnull=False)
        .values_list("question_id", "rating")
        .annotate(n=Count("id"))
        .values_list("question_id", "rating", "n")
    ):
        ratings[question_id][rating] = n
    chosen: dict = defaultdict(Counter)
    for question_id, options in items.exclude(choices=[]).values_list("question_id", "choices"):
        chosen[question_id].update(options)
    results = []
    for question in questions:
        if question.kind == QuestionKind.RATING:
            counted = ratings[question.pk]
            total = sum(counted.values())
            mean = sum(r * n for r, n in counted.items()) / total if total else None
            results.append(
                QuestionResult(question, [(r, counted[r]) for r in range(1, 6)], total, mean)
            )
        elif question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            counted = chosen[question.pk]
            results.append(
                QuestionResult(
                    question, [(o, counted[o]) for o in question.options], sum(counted.values())
                )
            )
    text_rows = items.exclude(text="").select_related("question").order_by("-answer__submitted_at")
    if not campaign.anonymous:
        text_rows = text_rows.select_related("answer__unit__building")
    texts = [
        {
            "question": row.question.text,
            "text": row.text,
            "unit": None
            if campaign.anonymous or row.answer.unit is None
            else row.answer.unit.label,
        }
        for row in text_rows[:TEXT_ANSWERS_SHOWN]
    ]
    return CampaignResults(campaign, overall[None].result(weights), buildings, results, texts)


def follow_ups(user, *, estate_id: int | None = None, status: str = FollowUp.Status.OPEN):
    rows = FollowUp.objects.restrict(user, VIEW).filter(status=status)
    if estate_id is not None:
        rows = rows.filter(estate_id=estate_id)
    return rows.select_related(
        "answer__campaign", "answer__unit__building", "answer__building", "estate", "request"
    ).order_by("created_at", "id")


def follow_up_contact(follow_up: FollowUp):
    """The resident to call about a named answer (None for an anonymous one)."""
    answer = follow_up.answer
    if answer.campaign.anonymous or answer.respondent_id is None:
        return None
    from jiayuan.org.models import Resident

    return Resident.objects.filter(user_id=answer.respondent_id).first()


# ----------------------------------------------------------------------------- owners


@dataclass
class OpenSurvey:
    campaign: Campaign
    unit: object
    answered: bool


def open_surveys(user, now: datetime | None = None) -> list[OpenSurvey]:
    """The surveys open now for the user's households: one row per household asked, with
    whether it has answered. Three queries, however many."""
    now = now or timezone.now()
    campaigns = Campaign.objects.restrict(user, ANSWER).filter(
        status=Campaign.Status.OPEN, opens_at__lte=now, deadline__gt=now
    )
    households = list(
        CampaignHousehold.objects.filter(campaign__in=campaigns, unit_id__in=current_units_of(user))
        .select_related("campaign", "unit__building")
        .order_by("campaign__deadline", "campaign_id", "unit_id")
    )
    keys = {household_key(h.campaign_id, h.unit_id): h for h in households}
    answered = set(
        SurveyAnswer.objects.filter(
            campaign_id__in={h.campaign_id for h in households}, household_key__in=list(keys)
        ).values_list("household_key", flat=True)
    )
    return [
        OpenSurvey(h.campaign, h.unit, household_key(h.campaign_id, h.unit_id) in answered)
        for h in households
        if is_open_for_answers(h.campaign, now)
    ]


def survey_for_owner(user, campaign_id: int, unit_id: int) -> OpenSurvey:
    """One household's survey, 404 if the user does not live there or it was not asked."""
    from django.http import Http404

    household = (
        CampaignHousehold.objects.filter(
            campaign__in=Campaign.objects.restrict(user, ANSWER),
            campaign_id=campaign_id,
            unit_id=unit_id,
            unit_id__in=current_units_of(user),
        )
        .select_related("campaign__template", "unit__building")
        .first()
    )
    if household is None:
        raise Http404
    answered = SurveyAnswer.objects.filter(
        campaign_id=campaign_id, household_key=household_key(campaign_id, unit_id)
    ).exists()
    return OpenSurvey(household.campaign, household.unit, answered)


def days_left(campaign: Campaign, now: datetime | None = None) -> int:
    return max(0, (campaign.deadline - (now or timezone.now())) // timedelta(days=1))

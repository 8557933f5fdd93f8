"""Satisfaction surveys over the API: campaigns and their results for managers, the open
surveys and the answer for owners' apps, and the desk's low-score follow-ups, through the
same selectors and services as the pages. Nothing here names who answered an anonymous
campaign."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from jiayuan.core.access import VIEW, get_visible
from jiayuan.core.api_schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    InputSchema,
    ObjectId,
    PageNumberPagination,
    Reference,
    Text,
)
from jiayuan.org.models import Unit
from jiayuan.quality import selectors, services
from jiayuan.quality.models import (
    ANSWER,
    NOTE_MAX,
    TEXT_ANSWER_MAX,
    Campaign,
    FollowUp,
)
from jiayuan.servicedesk.models import DESCRIPTION_MAX

router = Router(tags=["quality"])
CONFLICT = {409: ErrorOut}


class CampaignOut(Schema):
    id: int
    title: str
    estate: int | None = Field(description="Null: every estate of the company.")
    status: str
    period_start: date
    period_end: date
    opens_at: datetime
    deadline: datetime
    anonymous: bool
    households_asked: int
    answers: int
    response_rate: float | None

    @staticmethod
    def resolve_estate(obj):
        return obj.estate_id

    @staticmethod
    def resolve_answers(obj):
        return obj.answer_count


class CsiOut(Schema):
    score: float | None = Field(description="0–100; null without any rating.")
    dimensions: dict[str, float | None]
    survey_answers: int
    households_asked: int
    response_rate: float | None
    service_ratings: int


class BuildingCsiOut(Schema):
    building: int
    name: str
    csi: CsiOut


class CountOut(Schema):
    value: str
    count: int


class QuestionResultOut(Schema):
    question: int
    text: str
    kind: str
    dimension: str
    answered: int
    mean: float | None
    counts: list[CountOut]


class TextAnswerOut(Schema):
    question: str
    text: str


class ResultsOut(Schema):
    campaign: CampaignOut
    csi: CsiOut
    buildings: list[BuildingCsiOut]
    questions: list[QuestionResultOut]
    texts: list[TextAnswerOut]


class QuestionOut(Schema):
    id: int
    kind: str
    text: str
    dimension: str
    options: list[str]
    required: bool


class SurveyOut(Schema):
    id: int = Field(description="The campaign.")
    title: str
    intro: str
    unit: int
    unit_label: str
    deadline: datetime
    anonymous: bool
    answered: bool
    questions: list[QuestionOut]


class SurveyPage(Schema):
    items: list[SurveyOut]
    count: int


AnswerValue = (
    Annotated[int, Field(strict=True)]
    | Annotated[str, Field(max_length=TEXT_ANSWER_MAX)]
    | list[Annotated[str, Field(max_length=TEXT_ANSWER_MAX)]]
)


class AnswerIn(InputSchema):
    unit: Reference
    answers: dict[str, AnswerValue] = Field(
        description="Question id → a rating 1–5, an option, a list of options or a text."
    )


class AnswerOut(Schema):
    campaign: int
    submitted_at: datetime


class FollowUpOut(Schema):
    id: int
    campaign: int
    campaign_title: str
    estate: int
    anonymous: bool
    unit_label: str | None = Field(description="Null for an anonymous answer.")
    reason: str
    status: str
    outcome: str
    note: str
    request: int | None = Field(description="The complaint opened from it.")
    created_at: datetime

    @staticmethod
    def resolve_campaign(obj):
        return obj.answer.campaign_id

    @staticmethod
    def resolve_campaign_title(obj):
        return obj.answer.campaign.title

    @staticmethod
    def resolve_estate(obj):
        return obj.estate_id

    @staticmethod
    def resolve_anonymous(obj):
        return obj.answer.campaign.anonymous

    @staticmethod
    def resolve_unit_label(obj):
        unit = obj.answer.unit
        return None if obj.answer.campaign.anonymous or unit is None else unit.label

    @staticmethod
    def resolve_request(obj):
        return obj.request_id


class FollowUpCloseIn(InputSchema):
    outcome: Literal[tuple(FollowUp.Outcome.values)]
    note: Text = Field("", max_length=NOTE_MAX)
    category: str | None = Field(None, max_length=32, description="For a complaint.")
    description: Text | None = Field(
        None, max_length=DESCRIPTION_MAX, description="For a complaint."
    )


# ----------------------------------------------------------------------------- campaigns


@router.get("/campaigns", response={200: list[CampaignOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_campaigns(request):
    """The campaigns the caller manages, the latest period first."""
    return selectors.campaign_list(request.auth)


@router.get("/campaigns/{campaign_id}/results", response={200: ResultsOut, **READ_ERRORS})
def campaign_results(request, campaign_id: ObjectId):
    """CSI, response rate, per-building scores, per-question counts and written answers of
    the estates the caller may read."""
    user = request.auth
    campaign = get_visible(selectors.campaign_list(user), user, VIEW, pk=campaign_id)
    results = selectors.campaign_results(user, campaign)
    return {
        "campaign": campaign,
        "csi": results.overall,
        "buildings": [
            {"building": pk, "name": name, "csi": row} for pk, name, row in results.buildings
        ],
        "questions": [
            {
                "question": r.question.pk,
                "text": r.question.text,
                "kind": r.question.kind,
                "dimension": r.question.dimension,
                "answered": r.answered,
                "mean": r.mean,
                "counts": [{"value": str(value), "count": n} for value, n in r.counts],
            }
            for r in results.questions
        ],
        "texts": [{"question": t["question"], "text": t["text"]} for t in results.texts],
    }


# ----------------------------------------------------------------------------- owners


@router.get("/my/surveys", response={200: SurveyPage, 401: ErrorOut})
def my_surveys(request):
    """The surveys open now for the caller's households, answered or not."""
    surveys = selectors.open_surveys(request.auth)
    items = [
        {
            "id": s.campaign.pk,
            "title": s.campaign.template.title,
            "intro": s.campaign.template.intro,
            "unit": s.unit.pk,
            "unit_label": s.unit.label,
            "deadline": s.campaign.deadline,
            "anonymous": s.campaign.anonymous,
            "answered": s.answered,
            "questions": list(s.campaign.template.questions.all()),
        }
        for s in surveys
    ]
    return {"items": items, "count": len(items)}


@router.post(
    "/campaigns/{campaign_id}/answers",
    response={201: AnswerOut, **WRITE_ERRORS, **CONFLICT},
)
def submit_answer(request, campaign_id: ObjectId, payload: AnswerIn):
    """An owner answers for one of their households, once; a second answer from the same
    household is a 409."""
    user = request.auth
    campaign = get_visible(Campaign, user, ANSWER, pk=campaign_id)
    unit = get_visible(Unit, user, VIEW, pk=payload.unit)
    try:
        answer = services.answer_submit(
            actor=user, campaign=campaign, unit=unit, answers=payload.answers
        )
    except services.AlreadyAnswered as exc:
        return Status(409, {"detail": " ".join(exc.messages), "errors": []})
    return Status(201, {"campaign": campaign.pk, "submitted_at": answer.submitted_at})


# ----------------------------------------------------------------------------- follow-ups


@router.get("/follow-ups", response={200: list[FollowUpOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_follow_ups(request):
    """Open low-score follow-ups, the oldest first."""
    return selectors.follow_ups(request.auth)


@router.post(
    "/follow-ups/{follow_up_id}/close",
    response={200: FollowUpOut, **WRITE_ERRORS, **CONFLICT},
)
def close_follow_up(request, follow_up_id: ObjectId, payload: FollowUpCloseIn):
    """Record the call (satisfied, unsatisfied, unreachable), the review of an anonymous
    answer (reviewed, with a note), or open a complaint (complaint, with a category and a
    description)."""
    user = request.auth
    follow_up = get_visible(selectors.follow_ups(user), user, VIEW, pk=follow_up_id)
    try:
        if payload.outcome == FollowUp.Outcome.COMPLAINT:
            services.follow_up_complaint(
                actor=user,
                follow_up=follow_up,
                category=payload.category or "",
                description=payload.description or "",
            )
        else:
            services.follow_up_record(
                actor=user, follow_up=follow_up, outcome=payload.outcome, note=payload.note
            )
    except services.FollowUpChanged as exc:
        return Status(409, {"detail": " ".join(exc.messages), "errors": []})
    return get_visible(
        selectors.follow_ups(user, status=FollowUp.Status.DONE), user, VIEW, pk=follow_up_id
    )

"""Every write of the quality app: templates, campaigns (launch, reminders, closing),
answers with their low-score follow-ups, and the company's CSI settings. Each is atomic
and writes one audit event; an anonymous answer's events name neither the person nor the
unit (see models.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from jiayuan.comms.services import notify
from jiayuan.core.access import (
    ADD,
    CHANGE,
    DELETE,
    VIEW,
    can_in_estate,
    ensure_allowed,
    ensure_can_in_estate,
    estate_managers,
    get_visible,
)
from jiayuan.core.audit import record_event, snapshot
from jiayuan.core.cleaning import clean_text
from jiayuan.core.context import RequestContext, reset_request_context, set_request_context
from jiayuan.org.models import (
    Building,
    Company,
    Estate,
    Residency,
    Resident,
    Unit,
    current_residency,
)
from jiayuan.quality.defaults import default_template
from jiayuan.quality.events import QualityEvent
from jiayuan.quality.models import (
    ANSWER,
    INTRO_MAX,
    NOTE_MAX,
    OPTION_MAX,
    OPTIONS_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    TEXT_ANSWER_MAX,
    TITLE_MAX,
    AnswerItem,
    Area,
    Campaign,
    CampaignHousehold,
    Dimension,
    FollowUp,
    QualitySettings,
    Question,
    QuestionKind,
    SurveyAnswer,
    SurveyTemplate,
    current_units_of,
)
from jiayuan.servicedesk.models import Channel, Kind
from jiayuan.servicedesk.services import request_create

# Households asked by a campaign: units lived in now (occupied or let, with a current
# resident). Not only units whose residents use the portal: the response rate then says how
# many of the estate's households were heard, not how many of the few already online.
ASKED_UNIT_STATUSES = (Unit.Status.OCCUPIED, Unit.Status.RENTED)
NAMED_OUTCOMES = (
    FollowUp.Outcome.SATISFIED,
    FollowUp.Outcome.UNSATISFIED,
    FollowUp.Outcome.UNREACHABLE,
)


class AlreadyAnswered(ValidationError):
    """The household's answer is in already (another resident of the flat was quicker)."""


class FollowUpChanged(ValidationError):
    """Someone else closed the follow-up first."""


def _whole_number(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            {
                field: _("Enter a whole number from %(low)s to %(high)s.")
                % {"low": low, "high": high}
            }
        )
    return value


def _ensure_company_role(actor, company: Company, model, action: str) -> None:
    """Company-wide records (templates, settings): the action's roles in any estate of the
    company. 404 to whoever works elsewhere, 403 to staff of the company without them."""
    estates = list(Estate.objects.filter(company=company))
    if any(can_in_estate(actor, model, action, estate) for estate in estates):
        return
    if any(can_in_estate(actor, Estate, VIEW, estate) for estate in estates):
        raise PermissionDenied(_("You are not allowed to do this."))
    raise Http404(_("Not found."))


def current_quarter(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    next_start = (
        date(today.year + 1, 1, 1) if first_month == 10 else date(today.year, first_month + 3, 1)
    )
    return start, next_start - timedelta(days=1)


def household_key(campaign_id: int, unit_id: int) -> str:
    """The keyed hash that stands for a household in its answer (see models.py)."""
    return salted_hmac(
        "jiayuan.quality.household", f"{campaign_id}:{unit_id}", algorithm="sha256"
    ).hexdigest()


@contextmanager
def _unnamed():
    """Audit rows written inside carry no request id and no IP address: an anonymous
    answer's events must not lead back to the request (or the access log) that made it."""
    token = set_request_context(RequestContext())
    try:
        yield
    finally:
        reset_request_context(token)


# ----------------------------------------------------------------------------- templates


def _questions(value) -> list[Question]:
    """Questions from [{kind, text, dimension, area, options, required}, ...], in order."""
    if not isinstance(value, list | tuple):
        raise ValidationError({"questions": _("Give the questions as a list.")})
    if not value:
        raise ValidationError({"questions": _("Add at least one question.")})
    if len(value) > QUESTIONS_MAX:
        raise ValidationError({"questions": _("At most %(n)s questions.") % {"n": QUESTIONS_MAX}})
    found, problems = [], []
    for number, row in enumerate(value, start=1):
        try:
            found.append(_question(row, number))
        except ValidationError as exc:
            problems.extend(exc.messages)
    if problems:
        raise ValidationError({"questions": problems})
    return found


def _question(row, number: int) -> Question:
    def problem(message):
        return ValidationError(_("Question %(n)s: %(problem)s") % {"n": number, "problem": message})

    if not isinstance(row, Mapping):
        raise problem(_("give the question's kind and text."))
    kind = row.get("kind")
    if kind not in QuestionKind.values:
        raise problem(_("choose the kind of question."))
    try:
        text = clean_text(row.get("text"), "text", required=True, limit=QUESTION_MAX)
    except ValidationError as exc:
        raise problem(exc.messages[0]) from None
    dimension = row.get("dimension") or ""
    if kind == QuestionKind.RATING and dimension not in Dimension.values:
        raise problem(_("a rating question measures one of the four dimensions."))
    if kind != QuestionKind.RATING and dimension:
        raise problem(_("only a rating question measures a dimension."))
    area = row.get("area") or Area.GENERAL
    if area not in Area.values:
        raise problem(_("choose one of the listed areas."))
    options = row.get("options") or []
    if not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options):
        raise problem(_("give the options as a list of texts."))
    options = [o.strip() for o in options if o.strip()]
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if not 2 <= len(options) <= OPTIONS_MAX:
            raise problem(_("a choice question has 2 to %(n)s options.") % {"n": OPTIONS_MAX})
        if len(set(options)) != len(options):
            raise problem(_("the options must differ."))
        if any(len(o) > OPTION_MAX or "\x00" in o for o in options):
            raise problem(_("an option has at most %(n)s characters.") % {"n": OPTION_MAX})
    elif options:
        raise problem(_("only a choice question has options."))
    required = row.get("required", True)
    if not isinstance(required, bool):
        raise problem(_("say whether the question is required."))
    return Question(
        position=number,
        kind=kind,
        text=text,
        dimension=dimension,
        area=area,
        options=list(options),
        required=required,
    )


def _template_fields(title, intro) -> tuple[str, str]:
    errors: dict = {}
    values = []
    for field, value, required, limit in (
        ("title", title, True, TITLE_MAX),
        ("intro", intro, False, INTRO_MAX),
    ):
        try:
            values.append(clean_text(value, field, required=required, limit=limit))
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    return values[0], values[1]


def _question_snapshot(template: SurveyTemplate) -> list[dict]:
    return [
        {"kind": q.kind, "text": q.text, "dimension": q.dimension, "options": q.options}
        for q in template.questions.all()
    ]


def _save_questions(template: SurveyTemplate, questions: list[Question]) -> None:
    for question in questions:
        question.template = template
    Question.objects.bulk_create(questions)


@transaction.atomic
def template_create(
    *, actor, company: Company, title: str, intro: str = "", questions
) -> SurveyTemplate:
    _ensure_company_role(actor, company, SurveyTemplate, ADD)
    errors: dict = {}
    try:
        title, intro = _template_fields(title, intro)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    try:
        questions = _questions(questions)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    template = SurveyTemplate.objects.create(
        company=company, title=title, intro=intro, created_by=actor
    )
    _save_questions(template, questions)
    record_event(
        actor=actor,
        code=QualityEvent.TEMPLATE_CREATED,
        target=template,
        company=company,
        after={"title": title, "questions": _question_snapshot(template)},
    )
    return template


def template_create_default(*, actor, company: Company) -> SurveyTemplate:
    return template_create(actor=actor, company=company, **default_template())


def _ensure_not_frozen(template: SurveyTemplate) -> None:
    if template.is_frozen or template.campaigns.exists():
        raise ValidationError(
            _("A campaign uses this template, so it cannot change: make a copy instead.")
        )


@transaction.atomic
def template_update(
    *, actor, template: SurveyTemplate, title: str, intro: str = "", questions
) -> SurveyTemplate:
    ensure_allowed(actor, CHANGE, template)
    template = SurveyTemplate.objects.select_for_update().get(pk=template.pk)
    _ensure_not_frozen(template)
    errors: dict = {}
    try:
        title, intro = _template_fields(title, intro)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    try:
        questions = _questions(questions)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    before = {"title": template.title, "questions": _question_snapshot(template)}
    template.title, template.intro = title, intro
    template.save(update_fields=["title", "intro", "updated_at"])
    template.questions.all().delete()
    _save_questions(template, questions)
    record_event(
        actor=actor,
        code=QualityEvent.TEMPLATE_CHANGED,
        target=template,
        company=template.company,
        before=before,
        after={"title": title, "questions": _question_snapshot(template)},
    )
    return template


@transaction.atomic
def template_copy(*, actor, template: SurveyTemplate) -> SurveyTemplate:
    ensure_allowed(actor, VIEW, template)
    _ensure_company_role(actor, template.company, SurveyTemplate, ADD)
    copy = SurveyTemplate.objects.create(
        company=template.company,
        title=(_("Copy of %(title)s") % {"title": template.title})[:TITLE_MAX],
        intro=template.intro,
        created_by=actor,
    )
    Question.objects.bulk_create(
        Question(
            template=copy,
            position=q.position,
            kind=q.kind,
            text=q.text,
            dimension=q.dimension,
            area=q.area,
            options=q.options,
            required=q.required,
        )
        for q in template.questions.all()
    )
    record_event(
        actor=actor,
        code=QualityEvent.TEMPLATE_COPIED,
        target=copy,
        company=template.company,
        after={"from": template.pk, "title": copy.title},
    )
    return copy


@transaction.atomic
def template_delete(*, actor, template: SurveyTemplate) -> None:
    ensure_allowed(actor, DELETE, template)
    _ensure_not_frozen(template)
    record_event(
        actor=actor,
        code=QualityEvent.TEMPLATE_DELETED,
        target=template,
        company=template.company,
        before={"title": template.title},
    )
    template.delete()


# ----------------------------------------------------------------------------- campaigns


def _ensure_may_change_campaign(actor, campaign: Campaign, action: str = CHANGE) -> None:
    """A campaign of every estate is the company's: changing it takes the right in each."""
    ensure_allowed(actor, action, campaign)
    if campaign.estate_id is None:
        estates = Estate.objects.filter(company_id=campaign.company_id)
        if not all(can_in_estate(actor, Campaign, action, e) for e in estates):
            raise PermissionDenied(_("Only the company's administrators change this campaign."))


def _moment(value, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError({field: _("Enter a date and time.")})
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@transaction.atomic
def campaign_create(
    *,
    actor,
    company: Company,
    template: SurveyTemplate,
    deadline: datetime,
    title: str = "",
    estate: Estate | None = None,
    buildings: Iterable[Building] = (),
    period_start: date | None = None,
    period_end: date | None = None,
    opens_at: datetime | None = None,
    anonymous: bool = False,
    reminder_count: int = 1,
    reminder_days_before: int = 3,
) -> Campaign:
    """A draft campaign: nothing is sent until it is launched."""
    if estate is not None:
        if estate.company_id != company.pk:
            raise Http404(_("Not found."))
        ensure_can_in_estate(actor, Campaign, ADD, estate)
        covered = [estate]
    else:
        covered = list(Estate.objects.filter(company=company, is_active=True))
        if not covered:
            raise ValidationError({"estate": _("The company has no estate to ask.")})
        _ensure_company_role(actor, company, Campaign, ADD)
        if not all(can_in_estate(actor, Campaign, ADD, each) for each in covered):
            raise PermissionDenied(_("Only the company's administrators ask every estate."))
    errors: dict = {}

    def check(validate, default=None):
        try:
            return validate()
        except ValidationError as exc:
            exc.update_error_dict(errors)
            return default

    if template.company_id != company.pk or not (
        SurveyTemplate.objects.restrict(actor, VIEW).filter(pk=template.pk).exists()
    ):
        errors.setdefault("template", []).append(_("Choose one of the company's templates."))
    elif not template.questions.exists():
        errors.setdefault("template", []).append(_("This template has no question."))
    buildings = list(buildings)
    if buildings and estate is None:
        errors.setdefault("buildings", []).append(
            _("Choose buildings only in a campaign for one estate.")
        )
    elif any(b.estate_id != getattr(estate, "pk", None) for b in buildings):
        errors.setdefault("buildings", []).append(_("A building is in another estate."))
    default_start, default_end = current_quarter()
    period_start, period_end = period_start or default_start, period_end or default_end
    if period_end < period_start:
        errors.setdefault("period_end", []).append(_("The period ends before it starts."))
    now = timezone.now()
    opens_at = check(lambda: _moment(opens_at, "opens_at")) if opens_at else now
    deadline = check(lambda: _moment(deadline, "deadline"))
    if deadline is not None and opens_at is not None and deadline <= max(opens_at, now):
        errors.setdefault("deadline", []).append(
            _("The deadline must be after the opening and in the future.")
        )
    reminder_count = check(lambda: _whole_number(reminder_count, "reminder_count", 0, 5), 0)
    reminder_days_before = check(
        lambda: _whole_number(reminder_days_before, "reminder_days_before", 1, 60), 1
    )
    title = check(lambda: clean_text(title, "title", required=False, limit=TITLE_MAX), "")
    if errors:
        raise ValidationError(errors)
    campaign = Campaign.objects.create(
        company=company,
        template=template,
        title=title or f"{template.title} {period_start:%Y-%m-%d}–{period_end:%Y-%m-%d}",
        estate=estate,
        period_start=period_start,
        period_end=period_end,
        opens_at=opens_at,
        deadline=deadline,
        anonymous=bool(anonymous),
        reminder_count=reminder_count,
        reminder_days_before=reminder_days_before,
        created_by=actor,
    )
    campaign.estates.set(covered)
    campaign.buildings.set(buildings)
    record_event(
        actor=actor,
        code=QualityEvent.CAMPAIGN_CREATED,
        target=campaign,
        estate=estate,
        company=company,
        after={
            **snapshot(
                campaign,
                ["template", "title", "period_start", "period_end", "deadline", "anonymous"],
            ),
            "buildings": sorted(b.pk for b in buildings),
        },
    )
    return campaign


def _households(campaign: Campaign) -> list[CampaignHousehold]:
    lived_in = Residency.objects.filter(current_residency()).values("unit_id")
    units = Unit.objects.filter(
        estate__in=campaign.estates.all(), status__in=ASKED_UNIT_STATUSES, pk__in=lived_in
    )
    building_ids = list(campaign.buildings.values_list("pk", flat=True))
    if building_ids:
        units = units.filter(building_id__in=building_ids)
    return [
        CampaignHousehold(campaign=campaign, unit_id=unit_id, building_id=building_id, estate_id=e)
        for unit_id, building_id, e in units.values_list("pk", "building_id", "estate_id")
    ]


@transaction.atomic
def campaign_launch(*, actor, campaign: Campaign) -> Campaign:
    """Open the campaign: the households asked are recorded (the response rate's fixed
    denominator), the template is frozen, and the households are invited when it opens."""
    _ensure_may_change_campaign(actor, campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError(_("Only a draft campaign can be launched."))
    now = timezone.now()
    if campaign.deadline <= now:
        raise ValidationError({"deadline": _("The deadline has passed: change the campaign.")})
    households = _households(campaign)
    if not households:
        raise ValidationError(_("No household lives in the places this campaign asks."))
    CampaignHousehold.objects.bulk_create(households, batch_size=500)
    campaign.status, campaign.launched_at = Campaign.Status.OPEN, now
    campaign.households_asked = len(households)
    campaign.save(update_fields=["status", "launched_at", "households_asked", "updated_at"])
    SurveyTemplate.objects.filter(pk=campaign.template_id, frozen_at__isnull=True).update(
        frozen_at=now
    )
    record_event(
        actor=actor,
        code=QualityEvent.CAMPAIGN_LAUNCHED,
        target=campaign,
        estate=campaign.estate,
        company=campaign.company,
        after={"households_asked": len(households)},
    )
    if campaign.opens_at <= now:
        _invite(campaign, now)
    return campaign


def _portal_users_of(unit_ids) -> list:
    residents = (
        Resident.objects.filter(
            residencies__unit_id__in=unit_ids,
            user__isnull=False,
            user__is_active=True,
        )
        .filter(current_residency(through="residencies__"))
        .select_related("user")
        .distinct()
    )
    return [resident.user for resident in residents]


def _tell_households(campaign: Campaign, unit_ids, title: str) -> int:
    users = _portal_users_of(unit_ids)
    if users:
        notify(
            recipients=users,
            kind="quality.survey",
            title=title,
            body=campaign.title,
            link=reverse("quality:my_surveys"),
            estate=campaign.estate,
        )
    return len(users)


def _invite(campaign: Campaign, now: datetime) -> None:
    # The conditional update makes the invitation go out once, whoever gets here first.
    if Campaign.objects.filter(pk=campaign.pk, invited_at__isnull=True).update(invited_at=now):
        units = campaign.households.values_list("unit_id", flat=True)
        _tell_households(campaign, units, _("A satisfaction survey is waiting for you"))


def _close(actor, campaign: Campaign, now: datetime) -> bool:
    closed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.OPEN).update(
        status=Campaign.Status.CLOSED, closed_at=now, updated_at=now
    )
    if closed:
        record_event(
            actor=actor,
            code=QualityEvent.CAMPAIGN_CLOSED,
            target=campaign,
            estate=campaign.estate,
            company=campaign.company,
            after={"by_deadline": actor is None},
        )
    return bool(closed)


@transaction.atomic
def campaign_close(*, actor, campaign: Campaign) -> Campaign:
    _ensure_may_change_campaign(actor, campaign)
    if not _close(actor, campaign, timezone.now()):
        raise ValidationError(_("Only an open campaign can be closed."))
    campaign.refresh_from_db()
    return campaign


def reminder_due_at(campaign: Campaign, number: int) -> datetime:
    """When reminder `number` (1..reminder_count) is due: the first `reminder_days_before`
    days before the deadline, the others spread evenly between it and the deadline."""
    first = campaign.deadline - timedelta(days=campaign.reminder_days_before)
    step = timedelta(days=campaign.reminder_days_before) / max(campaign.reminder_count, 1)
    return first + step * (number - 1)


def _remind(campaign: Campaign, now: datetime) -> int:
    """Send the latest reminder that is due (once: the round is claimed by a conditional
    update) to the households that have not answered. Returns the people reminded."""
    due = [
        n
        for n in range(1, campaign.reminder_count + 1)
        if reminder_due_at(campaign, n) <= now and n > campaign.reminders_sent
    ]
    if not due:
        return 0
    claimed = Campaign.objects.filter(
        pk=campaign.pk, reminders_sent=campaign.reminders_sent
    ).update(reminders_sent=due[-1])
    if not claimed:
        return 0
    answered = set(campaign.answers.values_list("household_key", flat=True))
    waiting = [
        unit_id
        for unit_id in campaign.households.values_list("unit_id", flat=True)
        if household_key(campaign.pk, unit_id) not in answered
    ]
    told = _tell_households(campaign, waiting, _("Reminder: please answer the satisfaction survey"))
    record_event(
        actor=None,
        code=QualityEvent.CAMPAIGN_REMINDED,
        target=campaign,
        estate=campaign.estate,
        company=campaign.company,
        after={"reminder": due[-1], "households": len(waiting), "people": told},
    )
    return told


def tick(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: close campaigns past their deadline, invite households to the
    campaigns that opened, and send the reminders that are due."""
    now = now or timezone.now()
    done = {"closed": 0, "invited": 0, "reminded": 0}
    for campaign in Campaign.objects.filter(status=Campaign.Status.OPEN).select_related(
        "estate", "company"
    ):
        with transaction.atomic():
            if campaign.deadline <= now:
                done["closed"] += _close(None, campaign, now)
                continue
            if campaign.opens_at <= now and campaign.invited_at is None:
                _invite(campaign, now)
                done["invited"] += 1
            if campaign.invited_at is not None or campaign.opens_at <= now:
                done["reminded"] += _remind(campaign, now)
    return done


# ----------------------------------------------------------------------------- answers


def is_open_for_answers(campaign: Campaign, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return campaign.status == Campaign.Status.OPEN and campaign.opens_at <= now < campaign.deadline


def _item(question: Question, value) -> AnswerItem:
    """One answer checked against its question; ValidationError with the message only."""
    empty = value is None or value == "" or value == []
    if empty:
        if question.required:
            raise ValidationError(_("Please answer this question."))
        return None
    item = AnswerItem(question=question, dimension=question.dimension)
    if question.kind == QuestionKind.RATING:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationError(_("Choose from 1 to 5."))
        item.rating = value
    elif question.kind == QuestionKind.SINGLE:
        if not isinstance(value, str) or value not in question.options:
            raise ValidationError(_("Choose one of the options."))
        item.choices = [value]
    elif question.kind == QuestionKind.MULTIPLE:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, str) and v in question.options for v in value
        ):
            raise ValidationError(_("Choose among the options."))
        item.choices = [o for o in question.options if o in value]
    else:
        item.text = clean_text(value, "text", required=question.required, limit=TEXT_ANSWER_MAX)
        if not item.text:
            return None
    return item


def _items(questions: list[Question], answers: Mapping) -> list[AnswerItem]:
    if not isinstance(answers, Mapping):
        raise ValidationError({"answers": _("Send the answers as question and value pairs.")})
    known = {str(q.pk) for q in questions}
    errors: dict = {}
    if any(str(key) not in known for key in answers):
        errors["answers"] = [_("An answer is for a question that is not in this survey.")]
    given = {str(key): value for key, value in answers.items()}
    items = []
    for question in questions:
        try:
            item = _item(question, given.get(str(question.pk)))
        except ValidationError as exc:
            errors[f"answers.{question.pk}"] = exc.messages
            continue
        if item is not None:
            items.append(item)
    if errors:
        raise ValidationError(errors)
    return items


def _ensure_household(actor, campaign: Campaign, unit: Unit) -> CampaignHousehold:
    """The unit must be the actor's home and asked by the campaign; to anyone else the
    campaign is not there (404), as restrict() answers."""
    if not current_units_of(actor).filter(unit_id=unit.pk).exists():
        raise Http404(_("Not found."))
    household = CampaignHousehold.objects.filter(campaign=campaign, unit=unit).first()
    if household is None:
        raise ValidationError({"unit": _("This survey did not ask this household.")})
    return household


def has_answered(campaign: Campaign, unit_id: int) -> bool:
    key = household_key(campaign.pk, unit_id)
    return SurveyAnswer.objects.filter(campaign=campaign, household_key=key).exists()


def answer_submit(*, actor, campaign: Campaign, unit: Unit, answers: Mapping) -> SurveyAnswer:
    """An owner answers for their household, once. A second answer from the same flat is
    refused with AlreadyAnswered (the unique constraint decides a race). A rating at or
    below the company's threshold on any dimension opens a follow-up for the desk."""
    campaign = get_visible(
        Campaign.objects.select_related("company"), actor, ANSWER, pk=campaign.pk
    )
    household = _ensure_household(actor, campaign, unit)
    if not is_open_for_answers(campaign):
        raise ValidationError(_("This survey is closed."))
    key = household_key(campaign.pk, unit.pk)
    if has_answered(campaign, unit.pk):
        raise AlreadyAnswered(_("Your household has already answered this survey."))
    questions = list(campaign.template.questions.all())
    items = _items(questions, answers)
    try:
        with transaction.atomic():
            answer = SurveyAnswer.objects.create(
                campaign=campaign,
                estate_id=household.estate_id,
                building_id=household.building_id,
                household_key=key,
                unit=None if campaign.anonymous else unit,
                respondent=None if campaign.anonymous else actor,
                submitted_at=timezone.now(),
            )
            for item in items:
                item.answer = answer
            AnswerItem.objects.bulk_create(items)
            _after_answer(actor, campaign, answer, items)
    except IntegrityError:
        raise AlreadyAnswered(_("Your household has already answered this survey.")) from None
    return answer


def _after_answer(actor, campaign: Campaign, answer: SurveyAnswer, items) -> None:
    if campaign.anonymous:
        with _unnamed():
            _record_answer(None, campaign, answer, items)
    else:
        _record_answer(actor, campaign, answer, items)


def _record_answer(actor, campaign, answer, items) -> None:
    record_event(
        actor=actor,
        code=QualityEvent.ANSWER_SUBMITTED,
        # Anonymous: the campaign, not the answer, so no row points at one household's.
        target=campaign if campaign.anonymous else answer,
        estate=answer.estate,
        company=campaign.company,
        after={
            "campaign": campaign.pk,
            "anonymous": campaign.anonymous,
            "answers": len(items),
            **({} if campaign.anonymous else {"unit": answer.unit_id}),
        },
    )
    _open_follow_up(actor, campaign, answer, items)


def low_score_threshold(company_id: int) -> int:
    row = QualitySettings.objects.filter(company_id=company_id).first()
    return row.low_score if row else QualitySettings().low_score


def low_score_reason(items: Iterable[AnswerItem], threshold: int) -> str:
    """ "Service attitude 1★; …" for each dimension rated at or below the threshold, or ""
    when none is."""
    lowest: dict[str, int] = {}
    for item in items:
        if item.rating is not None and item.dimension and item.rating <= threshold:
            lowest[item.dimension] = min(item.rating, lowest.get(item.dimension, 5))
    labels = dict(Dimension.choices)
    return "; ".join(f"{labels[d]} {lowest[d]}★" for d in Dimension.values if d in lowest)[:300]


def _open_follow_up(actor, campaign, answer, items) -> FollowUp | None:
    reason = low_score_reason(items, low_score_threshold(campaign.company_id))
    if not reason:
        return None
    follow_up = FollowUp.objects.create(
        answer=answer, estate=answer.estate, reason=reason, created_at=timezone.now()
    )
    record_event(
        actor=actor,
        code=QualityEvent.FOLLOW_UP_OPENED,
        target=follow_up,
        estate=answer.estate,
        company=campaign.company,
        after={"reason": follow_up.reason},
    )
    managers = estate_managers(answer.estate)
    if managers:
        notify(
            recipients=managers,
            kind="quality.low_score",
            title=_("A low satisfaction score needs a follow-up"),
            body=follow_up.reason,
            link=reverse("quality:follow_up_list"),
            estate=answer.estate,
        )
    return follow_up


# ----------------------------------------------------------------------------- follow-ups


def _locked_open(actor, follow_up: FollowUp) -> FollowUp:
    ensure_allowed(actor, CHANGE, follow_up)
    locked = (
        FollowUp.objects.select_for_update()
        .select_related("answer__campaign", "estate")
        .get(pk=follow_up.pk)
    )
    if locked.status != FollowUp.Status.OPEN:
        raise FollowUpChanged(_("This follow-up has already been closed."))
    return locked


def _finish(actor, follow_up: FollowUp, outcome: str, note: str) -> FollowUp:
    follow_up.status, follow_up.outcome, follow_up.note = FollowUp.Status.DONE, outcome, note
    follow_up.done_at, follow_up.done_by = timezone.now(), actor
    follow_up.save()
    record_event(
        actor=actor,
        code=QualityEvent.FOLLOW_UP_DONE,
        target=follow_up,
        estate=follow_up.estate,
        after=snapshot(follow_up, ["status", "outcome", "note", "request"]),
    )
    return follow_up


@transaction.atomic
def follow_up_record(*, actor, follow_up: FollowUp, outcome: str, note: str = "") -> FollowUp:
    """The desk's call to a named household (satisfied, not satisfied, unreachable), or its
    review of an anonymous answer (reviewed, saying in the note what was done)."""
    follow_up = _locked_open(actor, follow_up)
    anonymous = follow_up.answer.campaign.anonymous
    allowed = (FollowUp.Outcome.REVIEWED,) if anonymous else NAMED_OUTCOMES
    errors: dict = {}
    if outcome not in allowed:
        errors["outcome"] = [
            _("An anonymous answer has nobody to call: record what was reviewed.")
            if anonymous and outcome in FollowUp.Outcome.values
            else _("Choose one of the listed outcomes.")
        ]
    try:
        note = clean_text(note, "note", required=anonymous, limit=NOTE_MAX)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    return _finish(actor, follow_up, outcome, note)


@transaction.atomic
def follow_up_complaint(*, actor, follow_up: FollowUp, category: str, description: str) -> FollowUp:
    """Open a complaint (channel: satisfaction survey) about what the low score names and
    close the follow-up with it. A named answer's complaint is on the household's behalf; an
    anonymous one's names nobody."""
    follow_up = _locked_open(actor, follow_up)
    answer = follow_up.answer
    reporter = None
    if answer.respondent_id is not None:
        reporter = Resident.objects.filter(user_id=answer.respondent_id).first()
    complaint = request_create(
        actor=actor,
        estate=follow_up.estate,
        kind=Kind.COMPLAINT,
        category=category,
        description=description,
        channel=Channel.SURVEY,
        unit=answer.unit,
        reporter=reporter,
    )
    if answer.respondent_id is not None:
        complaint.reporter_user_id = answer.respondent_id
        complaint.save(update_fields=["reporter_user"])
    follow_up.request = complaint
    return _finish(actor, follow_up, FollowUp.Outcome.COMPLAINT, description[:NOTE_MAX])


# ----------------------------------------------------------------------------- settings


def quality_settings(company_id: int) -> QualitySettings:
    return QualitySettings.objects.filter(company_id=company_id).first() or QualitySettings(
        company_id=company_id
    )


WEIGHT_FIELDS = ("weight_content", "weight_attitude", "weight_efficiency", "weight_experience")


@transaction.atomic
def settings_save(*, actor, company: Company, low_score: int, **weights) -> QualitySettings:
    _ensure_company_role(actor, company, QualitySettings, CHANGE)
    errors: dict = {}
    if set(weights) - set(WEIGHT_FIELDS):
        raise TypeError("unknown settings")
    for name in WEIGHT_FIELDS:
        try:
            _whole_number(weights.get(name, 1), name, 0, 100)
        except ValidationError as exc:
            exc.update_error_dict(errors)
    try:
        _whole_number(low_score, "low_score", 1, 4)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    if not errors and not any(weights.get(name, 1) for name in WEIGHT_FIELDS):
        errors["weight_content"] = [_("At least one dimension must weigh something.")]
    if errors:
        raise ValidationError(errors)
    row = QualitySettings.objects.select_for_update().filter(company=company).first()
    before = snapshot(row, [*WEIGHT_FIELDS, "low_score"]) if row else None
    row = row or QualitySettings(company=company)
    for name in WEIGHT_FIELDS:
        setattr(row, name, weights.get(name, 1))
    row.low_score = low_score
    row.save()
    record_event(
        actor=actor,
        code=QualityEvent.SETTINGS_SAVED,
        target=row,
        company=company,
        before=before,
        after=snapshot(row, [*WEIGHT_FIELDS, "low_score"]),
    )
    return row

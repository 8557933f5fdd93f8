"""Satisfaction surveys: templates of questions, campaigns that send one to households,
the households' answers, the company's CSI settings and the desk's follow-ups of low
scores.

Anonymity: every answer carries `household_key`, a keyed hash (HMAC-SHA256 with a key
derived from the server's SECRET_KEY) of the campaign and the unit. The unique constraint
on (campaign, household_key) keeps one answer per household, and the same key lets the
reminder job skip households that answered, without the answer naming the unit. In an
anonymous campaign the answer keeps no respondent and no unit, only the estate and the
building (for per-building scores) and the key, which a reader of the database cannot turn
back into a unit without the server's secret. Staff pages, the API and the audit trail read
nothing else."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiayuan.core.access import ADD, CHANGE, DELETE, VIEW, Access, RestrictedQuerySet
from jiayuan.core.models import QuickChoiceLabels, TimeStampedModel
from jiayuan.core.roles import MANAGERS
from jiayuan.servicedesk.models import DESK_ROLES

# Owners answer the campaigns their household was asked in: a permission of its own, so
# that an owner never reaches the staff's view of a campaign (its results).
ANSWER = "answer"
TITLE_MAX = 200
INTRO_MAX = 2000
QUESTION_MAX = 300
OPTION_MAX = 100
OPTIONS_MAX = 12
QUESTIONS_MAX = 40
TEXT_ANSWER_MAX = 1000
NOTE_MAX = 1000
DEFAULT_LOW_SCORE = 2
RATING = [MinValueValidator(1), MaxValueValidator(5)]
KEEPER_RULES = {VIEW: MANAGERS, ADD: MANAGERS, CHANGE: MANAGERS, DELETE: MANAGERS}


def current_units_of(user):
    """The ids of the units where the user lives now (moving out today still counts)."""
    from jiayuan.org.models import Residency, current_residency

    return Residency.objects.filter(current_residency(), resident__user=user).values("unit_id")


class Dimension(models.TextChoices):
    CONTENT = "content", _("Service content")
    ATTITUDE = "attitude", _("Service attitude")
    EFFICIENCY = "efficiency", _("Service efficiency")
    EXPERIENCE = "experience", _("Service experience")


class QuestionKind(models.TextChoices):
    RATING = "rating", _("Rating 1–5")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Text")


class Area(models.TextChoices):
    """What part of the service a question is about, for reading the results."""

    GENERAL = "general", _("General")
    SECURITY = "security", _("Security")
    CLEANING = "cleaning", _("Cleaning")
    GREENING = "greening", _("Greening")
    REPAIRS = "repairs", _("Repairs")
    SERVICE_DESK = "service_desk", _("Service desk")


class SurveyTemplate(TimeStampedModel):
    """A company's questionnaire. Once a campaign has been launched with it, it is frozen
    (`frozen_at`): results of campaigns stay comparable, and a copy can be edited instead."""

    company = models.ForeignKey(
        "org.Company", verbose_name=_("company"), on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    intro = models.TextField(_("introduction"), max_length=INTRO_MAX, blank=True)
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=KEEPER_RULES,
        estate_path="company__estates__id",
        company_path="company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class Question(models.Model):
    template = models.ForeignKey(SurveyTemplate, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=QUESTION_MAX)
    dimension = models.CharField(
        _("dimension"), max_length=12, choices=Dimension.choices, blank=True
    )
    area = models.CharField(_("area"), max_length=16, choices=Area.choices, default=Area.GENERAL)
    options = models.JSONField(_("options"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=KEEPER_RULES,
        estate_path="template__company__estates__id",
        company_path="template__company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "position"], name="quality_question_position_unique"
            ),
            # A rating question feeds exactly one dimension; other kinds feed none.
            models.CheckConstraint(
                condition=(Q(kind="rating") & ~Q(dimension=""))
                | (~Q(kind="rating") & Q(dimension="")),
                name="quality_question_rating_dimension",
            ),
        ]

    def __str__(self):
        return self.text


class Campaign(TimeStampedModel):
    """A template sent to one estate (or some of its buildings) or to every estate of the
    company, for a period. Launching it records the households asked."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", pgettext_lazy("survey campaign", "Open")
        CLOSED = "closed", _("Closed")

    company = models.ForeignKey(
        "org.Company", verbose_name=_("company"), on_delete=models.CASCADE, related_name="+"
    )
    template = models.ForeignKey(
        SurveyTemplate,
        verbose_name=_("survey template"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    # Empty: every estate of the company ("all owners").
    estate = models.ForeignKey(
        "org.Estate",
        verbose_name=_("estate"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The estates it covers (the one, or all of the company's at creation): what
    # restrict() reads, so an estate's managers see the campaigns that ask their owners.
    estates = models.ManyToManyField("org.Estate", related_name="+", blank=True)
    buildings = models.ManyToManyField(
        "org.Building",
        verbose_name=_("buildings"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty to ask the whole estate."),
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    opens_at = models.DateTimeField(_("opens at"))
    deadline = models.DateTimeField(_("deadline"))
    anonymous = models.BooleanField(_("anonymous"), default=False)
    reminder_count = models.PositiveSmallIntegerField(
        _("reminders"),
        default=1,
        validators=[MaxValueValidator(5)],
        help_text=_("How many times households that have not answered are reminded."),
    )
    reminder_days_before = models.PositiveSmallIntegerField(
        _("first reminder (days before the deadline)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    households_asked = models.PositiveIntegerField(_("households asked"), default=0)
    # When the households were told the survey is open (at launch, or when `opens_at`
    # comes, by the periodic job).
    invited_at = models.DateTimeField(_("invitations sent"), null=True, blank=True)
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=KEEPER_RULES,
        estate_path="estates__id",
        company_path="company_id",
        resident=lambda user: Q(
            pk__in=CampaignHousehold.objects.filter(unit_id__in=current_units_of(user)).values(
                "campaign_id"
            )
        ),
        resident_actions=frozenset({ANSWER}),
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="quality_campaign_period",
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("opens_at")), name="quality_campaign_deadline"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="quality_campaign_due"),
        ]

    def __str__(self):
        return self.title

    @property
    def response_rate(self) -> float | None:
        answers = getattr(self, "answer_count", None)
        if answers is None or not self.households_asked:
            return None
        return answers / self.households_asked


class CampaignHousehold(models.Model):
    """A household asked by a launched campaign: the snapshot that fixes the response
    rate's denominator and tells the reminder job whom to remind."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="households")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey("org.Building", on_delete=models.CASCADE, related_name="+")
    estate = models.ForeignKey("org.Estate", on_delete=models.CASCADE, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: DESK_ROLES},
        estate_path="estate_id",
        company_path="campaign__company_id",
    )

    class Meta:
        verbose_name = _("household asked")
        verbose_name_plural = _("households asked")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "unit"], name="quality_household_once_per_campaign"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "building"])]

    def __str__(self):
        return f"{self.campaign_id} · {self.unit_id}"


class SurveyAnswer(models.Model):
    """One household's answer to a campaign (see the module's note on anonymity)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="answers")
    estate = models.ForeignKey(
        "org.Estate", verbose_name=_("estate"), on_delete=models.CASCADE, related_name="+"
    )
    building = models.ForeignKey(
        "org.Building", verbose_name=_("building"), on_delete=models.CASCADE, related_name="+"
    )
    household_key = models.CharField(max_length=64, editable=False)
    # Both empty in an anonymous campaign.
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("respondent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"))

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: DESK_ROLES},
        estate_path="estate_id",
        company_path="campaign__company_id",
        resident=lambda user: Q(respondent=user),
    )

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household_key"], name="quality_one_answer_per_household"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "building"])]

    def __str__(self):
        # Never the unit or the person: this is what audit rows and the admin show.
        return f"{self.campaign} #{self.pk}"


class AnswerItem(models.Model):
    """The answer to one question. `dimension` repeats the question's so the CSI is one
    grouped query over the items."""

    answer = models.ForeignKey(SurveyAnswer, on_delete=models.CASCADE, related_name="items")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    dimension = models.CharField(max_length=12, choices=Dimension.choices, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True, validators=RATING)
    choices = models.JSONField(default=list, blank=True)
    text = models.TextField(max_length=TEXT_ANSWER_MAX, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: DESK_ROLES},
        estate_path="answer__estate_id",
        company_path="answer__campaign__company_id",
    )

    class Meta:
        verbose_name = _("answer to a question")
        verbose_name_plural = _("answers to questions")
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "question"], name="quality_item_once_per_question"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="quality_item_rating_range",
            ),
        ]

    def __str__(self):
        return f"{self.answer_id} · {self.question_id}"


class QualitySettings(models.Model):
    """A company's CSI weights and low-score threshold. Missing row: the defaults."""

    company = models.OneToOneField(
        "org.Company", on_delete=models.CASCADE, related_name="quality_settings"
    )
    weight_content = models.PositiveSmallIntegerField(
        _("weight of service content"), default=1, validators=[MaxValueValidator(100)]
    )
    weight_attitude = models.PositiveSmallIntegerField(
        _("weight of service attitude"), default=1, validators=[MaxValueValidator(100)]
    )
    weight_efficiency = models.PositiveSmallIntegerField(
        _("weight of service efficiency"), default=1, validators=[MaxValueValidator(100)]
    )
    weight_experience = models.PositiveSmallIntegerField(
        _("weight of service experience"), default=1, validators=[MaxValueValidator(100)]
    )
    low_score = models.PositiveSmallIntegerField(
        _("low score"),
        default=DEFAULT_LOW_SCORE,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text=_("A rating this low or lower on any dimension opens a follow-up."),
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: MANAGERS, CHANGE: MANAGERS},
        estate_path="company__estates__id",
        company_path="company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("satisfaction settings")
        verbose_name_plural = _("satisfaction settings")

    def __str__(self):
        return str(self.company_id)

    @property
    def weights(self) -> dict[str, int]:
        return {
            Dimension.CONTENT: self.weight_content,
            Dimension.ATTITUDE: self.weight_attitude,
            Dimension.EFFICIENCY: self.weight_efficiency,
            Dimension.EXPERIENCE: self.weight_experience,
        }


class FollowUp(QuickChoiceLabels, models.Model):
    """A low score the desk looks into. A named answer's household is called back; an
    anonymous one has nobody to call, so the desk reviews it and closes it as reviewed
    (saying what was done), or opens a complaint about the service it names."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("follow-up", "Open")
        DONE = "done", _("Done")

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("Called: satisfied")
        UNSATISFIED = "unsatisfied", _("Called: not satisfied")
        UNREACHABLE = "unreachable", _("Could not reach the household")
        REVIEWED = "reviewed", _("Reviewed (anonymous answer)")
        COMPLAINT = "complaint", _("Complaint opened")

    answer = models.OneToOneField(SurveyAnswer, on_delete=models.CASCADE, related_name="follow_up")
    estate = models.ForeignKey(
        "org.Estate", verbose_name=_("estate"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), max_length=NOTE_MAX, blank=True)
    request = models.ForeignKey(
        "servicedesk.ServiceRequest",
        verbose_name=_("complaint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("opened at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: DESK_ROLES, CHANGE: DESK_ROLES},
        estate_path="estate_id",
        company_path="answer__campaign__company_id",
    )

    class Meta:
        verbose_name = _("low-score follow-up")
        verbose_name_plural = _("low-score follow-ups")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["estate", "created_at"],
                condition=Q(status="open"),
                name="quality_follow_up_open",
            ),
        ]

    def __str__(self):
        return f"{self.answer} · {self.reason}"[:200]

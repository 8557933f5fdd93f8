"""Forms of the quality pages. They parse what people post; the rules (what a question may
be, what an answer must hold) are the services', whose errors the views hand back."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiayuan.core.taxonomy import Category
from jiayuan.quality.models import (
    INTRO_MAX,
    NOTE_MAX,
    QUESTION_MAX,
    TEXT_ANSWER_MAX,
    TITLE_MAX,
    Area,
    Dimension,
    FollowUp,
    QuestionKind,
)
from jiayuan.servicedesk.models import DESCRIPTION_MAX

NONE = [("", "—")]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MOMENT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class TemplateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    intro = forms.CharField(
        label=_("Introduction"),
        max_length=INTRO_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Question"), max_length=QUESTION_MAX, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices)
    dimension = forms.ChoiceField(
        label=_("Dimension"), choices=NONE + Dimension.choices, required=False
    )
    area = forms.ChoiceField(
        label=pgettext_lazy("survey question", "Area"), choices=Area.choices, initial=Area.GENERAL
    )
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Choice questions: one option per line."),
    )
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)

    def as_question(self) -> dict | None:
        """The row for the service, or None for a row left empty."""
        data = self.cleaned_data
        if not data.get("text"):
            return None
        return {
            "kind": data["kind"],
            "text": data["text"],
            "dimension": data["dimension"],
            "area": data["area"],
            "options": [line for line in data["options"].splitlines() if line.strip()],
            "required": data["required"],
        }


QuestionFormSet = forms.formset_factory(QuestionForm, extra=3, max_num=40, absolute_max=60)


def question_initial(template) -> list[dict]:
    return [
        {
            "text": q.text,
            "kind": q.kind,
            "dimension": q.dimension,
            "area": q.area,
            "options": "\n".join(q.options),
            "required": q.required,
        }
        for q in template.questions.all()
    ]


ALL_ESTATES = "all"
THIS_ESTATE = "estate"


class CampaignForm(forms.Form):
    template = forms.TypedChoiceField(label=_("Survey template"), coerce=int)
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        required=False,
        help_text=_("Leave empty to use the template's title and the period."),
    )
    scope = forms.ChoiceField(label=_("Who is asked"), widget=forms.RadioSelect)
    buildings = forms.TypedMultipleChoiceField(
        label=_("Buildings"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to ask the whole estate."),
    )
    period_start = forms.DateField(label=_("Period from"), widget=DATE)
    period_end = forms.DateField(label=_("Period until"), widget=DATE)
    opens_at = forms.DateTimeField(label=_("Opens at"), widget=MOMENT, input_formats=MOMENT_FORMATS)
    deadline = forms.DateTimeField(label=_("Deadline"), widget=MOMENT, input_formats=MOMENT_FORMATS)
    anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_("Staff will not see who answered; low scores are reviewed, not called."),
    )
    reminder_count = forms.IntegerField(label=_("Reminders"), min_value=0, max_value=5)
    reminder_days_before = forms.IntegerField(
        label=_("First reminder (days before the deadline)"), min_value=1, max_value=60
    )

    def __init__(self, *args, templates, estate, buildings, company_wide: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.pk, t.title) for t in templates]
        scopes = [(THIS_ESTATE, estate.name)]
        if company_wide:
            scopes.append((ALL_ESTATES, _("All estates of the company")))
        self.fields["scope"].choices = scopes
        self.fields["buildings"].choices = [(b.pk, b.name) for b in buildings]


class FollowUpForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, anonymous: bool, **kwargs):
        super().__init__(*args, **kwargs)
        outcomes = (
            [FollowUp.Outcome.REVIEWED]
            if anonymous
            else [
                FollowUp.Outcome.SATISFIED,
                FollowUp.Outcome.UNSATISFIED,
                FollowUp.Outcome.UNREACHABLE,
            ]
        )
        self.fields["outcome"].choices = [(o.value, o.label) for o in outcomes]
        if anonymous:
            self.fields["note"].required = True
            self.fields["note"].help_text = _("Say what was looked into and what was done.")


class ComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    description = forms.CharField(
        label=_("Description"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class SettingsForm(forms.Form):
    weight_content = forms.IntegerField(label=Dimension.CONTENT.label, min_value=0, max_value=100)
    weight_attitude = forms.IntegerField(label=Dimension.ATTITUDE.label, min_value=0, max_value=100)
    weight_efficiency = forms.IntegerField(
        label=Dimension.EFFICIENCY.label, min_value=0, max_value=100
    )
    weight_experience = forms.IntegerField(
        label=Dimension.EXPERIENCE.label, min_value=0, max_value=100
    )
    low_score = forms.IntegerField(
        label=_("Low score"),
        min_value=1,
        max_value=4,
        help_text=_("A rating this low or lower on any dimension opens a follow-up."),
    )


STARS = [(n, str(n)) for n in range(1, 6)]


class AnswerForm(forms.Form):
    """One field per question (`q<id>`). Every field is optional here: whether a question
    must be answered is the service's rule, and its message comes back on the field."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[self.name_of(question)] = self._field(question)

    @staticmethod
    def name_of(question) -> str:
        return f"q{question.pk}"

    def _field(self, question) -> forms.Field:
        label = question.text
        options = [(o, o) for o in question.options]
        if question.kind == QuestionKind.RATING:
            return forms.TypedChoiceField(
                label=label,
                choices=STARS,
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "qa-scale"}),
            )
        if question.kind == QuestionKind.SINGLE:
            return forms.ChoiceField(
                label=label,
                choices=options,
                required=False,
                widget=forms.RadioSelect(attrs={"class": "qa-options"}),
            )
        if question.kind == QuestionKind.MULTIPLE:
            return forms.MultipleChoiceField(
                label=label,
                choices=options,
                required=False,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "qa-options"}),
            )
        return forms.CharField(
            label=label,
            max_length=TEXT_ANSWER_MAX,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )

    def answers(self) -> dict[str, object]:
        return {str(q.pk): self.cleaned_data.get(self.name_of(q)) for q in self.questions}

    def add_service_errors(self, exc: ValidationError) -> None:
        by_question = {f"answers.{q.pk}": self.name_of(q) for q in self.questions}
        for key, messages in exc.message_dict.items() if hasattr(exc, "error_dict") else []:
            self.add_error(by_question.get(key), messages)
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)

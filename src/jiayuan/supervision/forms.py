"""The pages' forms: they read and type the input; the services decide what is allowed."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jiayuan.core.forms import add_service_errors
from jiayuan.core.taxonomy import Category
from jiayuan.dashboard.kpis import Kpi
from jiayuan.supervision.models import (
    ITEM_POINTS_MAX,
    ITEMS_MAX,
    TEXT_MAX,
    TITLE_MAX,
    ActDecision,
    Area,
    Inspection,
    ProblemKind,
    RectificationOrder,
    Stage,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
IMAGE_INPUT = forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"})


def _blank(choices) -> list:
    return [("", "—"), *choices]


def _text_area(rows: int = 3):
    return forms.Textarea(attrs={"rows": rows})


# ----------------------------------------------------------------------------- checklists


class ChecklistForm(forms.Form):
    area = forms.ChoiceField(label=_("Service area"), choices=Area.choices)
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class ChecklistItemForm(forms.Form):
    description = forms.CharField(label=_("Checklist item"), max_length=200, required=False)
    points = forms.IntegerField(
        label=_("Points"), min_value=1, max_value=ITEM_POINTS_MAX, required=False
    )
    critical = forms.BooleanField(label=_("Critical"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("description") and not data.get("points"):
            self.add_error("points", _("Give the item's points."))
        return data


ChecklistItemFormSet = forms.formset_factory(
    ChecklistItemForm, extra=3, max_num=ITEMS_MAX, validate_max=True, absolute_max=ITEMS_MAX
)


def filled_items(formset) -> list[tuple[str, int, bool]]:
    return [
        (
            form.cleaned_data["description"],
            form.cleaned_data["points"],
            form.cleaned_data["critical"],
        )
        for form in formset.forms
        if form.cleaned_data.get("description")
    ]


# ----------------------------------------------------------------------------- inspections


class InspectionFilterForm(forms.Form):
    area = forms.ChoiceField(label=_("Service area"), choices=_blank(Area.choices), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=_blank(Inspection.Status.choices),
        required=False,
    )


class InspectionStartForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Checklist"), queryset=None)
    inspected_at = forms.DateTimeField(label=_("Inspected at"), widget=MOMENT)

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["template"].label_from_instance = lambda t: (
            f"{t.get_area_display()} · {t.title}"
        )


class InspectionResultsForm(forms.Form):
    """Points, finding and photo for every item of a draft, and who puts the findings
    right by when (needed only when submitting with findings)."""

    owner = forms.ModelChoiceField(label=_("Rectification owner"), queryset=None, required=False)
    deadline = forms.DateTimeField(label=_("Rectify by"), widget=MOMENT, required=False)

    def __init__(self, *args, items, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        self.fields["owner"].queryset = owners
        for item in self.items:
            self.fields[f"item_{item.position}_points"] = forms.IntegerField(
                label=_("Points (max %(max)s)") % {"max": item.max_points},
                min_value=0,
                max_value=item.max_points,
                initial=item.points,
            )
            self.fields[f"item_{item.position}_note"] = forms.CharField(
                label=_("Finding"),
                max_length=TEXT_MAX,
                required=False,
                initial=item.note,
                widget=_text_area(2),
            )
            self.fields[f"item_{item.position}_photo"] = forms.FileField(
                label=_("Photo"), required=False, widget=IMAGE_INPUT
            )

    def rows(self):
        """(item, points field, note field, photo field) for the template."""
        return [
            (
                item,
                self[f"item_{item.position}_points"],
                self[f"item_{item.position}_note"],
                self[f"item_{item.position}_photo"],
            )
            for item in self.items
        ]

    def results(self) -> dict:
        return {
            item.pk: {
                "points": self.cleaned_data[f"item_{item.position}_points"],
                "note": self.cleaned_data[f"item_{item.position}_note"],
            }
            for item in self.items
        }

    def photos(self) -> dict:
        return {
            item.pk: self.cleaned_data[f"item_{item.position}_photo"]
            for item in self.items
            if self.cleaned_data.get(f"item_{item.position}_photo")
        }

    def add_service_errors(self, exc: ValidationError) -> None:
        """The service names an item's problem `item_<position>`: it shows under its note."""
        if not hasattr(exc, "error_dict"):
            add_service_errors(self, exc)
            return
        for field, errors in exc.error_dict.items():
            target = f"{field}_note" if f"{field}_note" in self.fields else field
            self.add_error(target if target in self.fields else None, errors)


# ----------------------------------------------------------------------------- orders


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=_blank(RectificationOrder.Status.choices), required=False
    )
    area = forms.ChoiceField(label=_("Service area"), choices=_blank(Area.choices), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Mine only"), required=False)


class OrderOpenForm(forms.Form):
    area = forms.ChoiceField(label=_("Service area"), choices=Area.choices)
    finding = forms.CharField(label=_("Finding"), max_length=TEXT_MAX, widget=_text_area())
    owner = forms.ModelChoiceField(label=_("Responsible"), queryset=None)
    deadline = forms.DateTimeField(label=_("Deadline"), widget=MOMENT)
    before_photo = forms.FileField(label=_("Photo"), required=False, widget=IMAGE_INPUT)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class FixForm(VersionForm):
    note = forms.CharField(label=_("What was done"), max_length=TEXT_MAX, widget=_text_area())
    after_photo = forms.FileField(label=_("Photo after"), required=False, widget=IMAGE_INPUT)


class RejectForm(VersionForm):
    reason = forms.CharField(label=_("Why it is not put right"), max_length=TEXT_MAX)


# ----------------------------------------------------------------------------- evaluations


class EvaluationForm(forms.Form):
    evaluator = forms.CharField(label=_("Evaluator (organisation)"), max_length=TITLE_MAX)
    evaluated_on = forms.DateField(label=_("Date"), widget=DATE)
    score = forms.DecimalField(
        label=_("Score"), min_value=0, max_value=100, max_digits=4, decimal_places=1
    )
    scope = forms.CharField(
        label=_("Scope and notes"), max_length=TEXT_MAX, required=False, widget=_text_area()
    )
    report = forms.FileField(
        label=_("Report (PDF or image)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )


# ----------------------------------------------------------------------------- improvements


class ActionFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Stage"), choices=_blank(Stage.choices), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    owner = forms.ModelChoiceField(label=_("Responsible"), queryset=None, required=False)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class ActionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    problem_kind = forms.ChoiceField(label=_("Problem"), choices=ProblemKind.choices)
    kpi = forms.ChoiceField(label=_("KPI"), choices=_blank(Kpi.choices), required=False)
    complaint_category = forms.ChoiceField(
        label=_("Complaint category"), choices=_blank(Category.choices), required=False
    )
    period_start = forms.DateField(label=_("Period from"), widget=DATE, required=False)
    period_end = forms.DateField(label=_("Period to"), widget=DATE, required=False)
    order = forms.ModelChoiceField(label=_("Rectification order"), queryset=None, required=False)
    problem_text = forms.CharField(
        label=_("Problem in words"), max_length=TEXT_MAX, required=False, widget=_text_area(2)
    )
    owner = forms.ModelChoiceField(label=_("Responsible"), queryset=None)
    due_on = forms.DateField(label=_("Due date"), widget=DATE)
    plan = forms.CharField(label=_("Plan"), max_length=TEXT_MAX, widget=_text_area())

    def __init__(self, *args, owners, orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["order"].queryset = orders


class AdvanceForm(VersionForm):
    """The fields that complete the action's current stage."""

    plan = forms.CharField(label=_("Plan"), max_length=TEXT_MAX, widget=_text_area())
    done = forms.CharField(label=_("What was done"), max_length=TEXT_MAX, widget=_text_area())
    done_on = forms.DateField(label=_("Done on"), widget=DATE)
    baseline_value = forms.DecimalField(label=_("Baseline value"), max_digits=12, decimal_places=2)
    after_value = forms.DecimalField(label=_("Value after"), max_digits=12, decimal_places=2)
    measured_on = forms.DateField(label=_("Measured on"), widget=DATE)
    check_comment = forms.CharField(label=_("Effect"), max_length=TEXT_MAX, widget=_text_area(2))
    act_decision = forms.ChoiceField(label=_("Decision"), choices=ActDecision.choices)
    act_note = forms.CharField(
        label=_("Standard or next step"), max_length=TEXT_MAX, widget=_text_area(2)
    )

    def __init__(self, *args, stage: str, stage_fields: dict, **kwargs):
        super().__init__(*args, **kwargs)
        kept = {"version", *stage_fields.get(stage, [])}
        for name in list(self.fields):
            if name not in kept:
                del self.fields[name]

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}

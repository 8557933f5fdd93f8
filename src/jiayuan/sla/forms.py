"""Forms of the calendar pages. They parse what people type; the services decide."""

import re
from datetime import time

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jiayuan.sla.models import (
    WEEKDAY_CHOICES,
    WEEKDAY_NAMES,
    CalendarDay,
    EscalationStep,
    SlaPolicy,
)
from jiayuan.sla.services import ESCALATION_MAX_STEPS, POLICY_FIELDS

_SPAN = re.compile(r"^(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})$")
_SEPARATORS = re.compile(r"[,，;；、\s]+(?=\d)")


def parse_spans(text: str) -> list[tuple[time, time]]:
    """'08:30-12:00, 13:30-18:00' → [(08:30, 12:00), (13:30, 18:00)]; 24:00 is midnight."""
    spans = []
    for part in _SEPARATORS.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        match = _SPAN.match(part)
        if match is None:
            raise ValidationError(
                _("Write windows as 08:30-12:00, separated by commas."), code="format"
            )
        start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
        if end_h == 24 and end_m == 0:
            end_h = 0
        if start_h > 23 or end_h > 23 or start_m > 59 or end_m > 59:
            raise ValidationError(_("“%(value)s” is not a time of day."), params={"value": part})
        spans.append((time(start_h, start_m), time(end_h, end_m)))
    return spans


def format_spans(spans) -> str:
    return ", ".join(
        f"{start:%H:%M}-{'24:00' if end == time(0) else format(end, '%H:%M')}"
        for start, end in spans
    )


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        help_text=_("Such as Asia/Shanghai or Asia/Urumqi."),
    )


class WindowsForm(forms.Form):
    """One line per weekday; an empty line is a closed day."""

    def __init__(self, *args, windows=None, **kwargs):
        super().__init__(*args, **kwargs)
        for weekday, label in WEEKDAY_CHOICES:
            self.fields[f"day_{weekday}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                initial=format_spans((windows or {}).get(weekday, ())),
                widget=forms.TextInput(attrs={"placeholder": "08:30-12:00, 13:30-18:00"}),
            )
        self.fields["day_0"].help_text = _(
            "Working windows of the day, such as 08:30-12:00, 13:30-18:00. Empty: closed."
        )

    def clean(self):
        cleaned = super().clean()
        self.windows = {}
        for weekday in range(len(WEEKDAY_NAMES)):
            key = f"day_{weekday}"
            if key not in cleaned:
                continue
            try:
                self.windows[weekday] = parse_spans(cleaned[key])
            except ValidationError as exc:
                self.add_error(key, exc)
        return cleaned


class DayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=CalendarDay.Kind.choices)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("Such as 国庆节 or 国庆节调休."),
    )
    follows_weekday = forms.TypedChoiceField(
        label=_("Works like"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        initial=0,
        help_text=_("For a make-up workday: whose working hours it has."),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "A CSV file with the columns date, kind (holiday or workday) and name, "
            "or an iCalendar (.ics) file whose events are holidays."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.ics,text/csv,text/calendar"}),
    )


class SeedForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, required=False)

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("This year and later"))] + [
            (year, str(year)) for year in years
        ]


# ----------------------------------------------------------------------------- policies


class PolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = POLICY_FIELDS

    def __init__(self, *args, estates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates
        self.fields["estate"].empty_label = _("Every estate")
        for name in ("kind", "category", "urgency"):
            choices = [choice for choice in self.fields[name].choices if choice[0]]
            self.fields[name].choices = [("", _("Any")), *choices]
        for name in self.fields:
            if name.endswith("_minutes"):
                self.fields[name].required = False
                self.fields[name].help_text = _("Empty: not counted.")


class EscalationForm(forms.Form):
    """One row per step: who is told, and after how many minutes of the step before."""

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        recipients = [("", _("(no step)")), *EscalationStep.Recipient.choices]
        for level in range(1, ESCALATION_MAX_STEPS + 1):
            step = steps[level - 1] if level <= len(steps) else None
            self.fields[f"recipient_{level}"] = forms.ChoiceField(
                label=_("Step %(level)s: who is told") % {"level": level},
                choices=recipients,
                required=False,
                initial=step.recipient if step else "",
            )
            self.fields[f"delay_{level}"] = forms.IntegerField(
                label=_(
                    "Step %(level)s: minutes after the step before (the first: after the breach)"
                )
                % {"level": level},
                min_value=0,
                required=False,
                initial=step.delay_minutes if step else None,
            )

    @property
    def steps(self) -> list[tuple[str, int]]:
        data = self.cleaned_data
        return [
            (data[f"recipient_{level}"], data.get(f"delay_{level}") or 0)
            for level in range(1, ESCALATION_MAX_STEPS + 1)
            if data.get(f"recipient_{level}")
        ]


class ReportForm(forms.Form):
    BY = [("estate", _("Estate")), ("team", _("Team")), ("person", _("Person"))]
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    end = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput({"type": "date"})
    )
    by = forms.ChoiceField(label=_("By"), choices=BY, required=False)

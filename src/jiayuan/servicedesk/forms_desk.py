"""Forms of the desk's pages: the queue's filters, recording a call, the desk's steps on a
request, return visits, reply templates and the desk's settings. They only parse input:
the services validate it against the rules and their errors come back through
core.forms.add_service_errors."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiayuan.accounts.models import User
from jiayuan.core.phones import normalize_mobile
from jiayuan.core.taxonomy import Category
from jiayuan.org.forms import MOBILE_INPUT_LENGTH, UnitChoiceField, date_field
from jiayuan.org.models import Building, CommonArea, Resident, Team, Unit
from jiayuan.servicedesk.forms_owner import CHOOSE, VersionForm, reason_field
from jiayuan.servicedesk.models import (
    DESCRIPTION_MAX,
    Channel,
    DeskSettings,
    Kind,
    ReturnVisit,
    Status,
    Urgency,
)
from jiayuan.servicedesk.selectors import QueueFilters
from jiayuan.sla import deadlines

# What the queue's search box takes; a longer paste is cut rather than refused.
SEARCH_MAX = 100
UNASSIGNED = "unassigned"


def _any(label):
    return [("", label)]


class PersonField(forms.ModelChoiceField):
    """A staff member by name (the username only tells two people of one name apart)."""

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


# ----------------------------------------------------------------------------- queue


class QueueFilterForm(forms.Form):
    """The queue's filters; every one optional. A bad value is reported on the form and
    left out of the query."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        help_text=_("Number, last digits of the phone, name or words of the description."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_any(_("Any status")) + Status.choices
    )
    open_only = forms.BooleanField(label=_("Open only"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=_any(_("Any kind")) + Kind.choices
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=_any(_("Any category")) + Category.choices
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), required=False, choices=_any(_("Any urgency")) + Urgency.choices
    )
    building = forms.ModelChoiceField(
        label=_("Building"),
        queryset=Building.objects.none(),
        required=False,
        empty_label=_("All buildings"),
    )
    assignee = forms.ChoiceField(label=_("Handler"), required=False)
    due = forms.ChoiceField(
        label=_("Deadline"),
        required=False,
        choices=_any(_("Any deadline")) + list(deadlines.DUE_FILTERS.items()),
    )
    created_from = date_field(_("Created from"))
    created_to = date_field(_("Created until"))

    def __init__(self, *args, buildings, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            (UNASSIGNED, _("Nobody yet")),
            *((str(person.pk), person.get_full_name() or person.username) for person in people),
        ]

    def clean_q(self):
        return self.cleaned_data["q"].strip()[:SEARCH_MAX]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> QueueFilters:
        """The valid filters (the form has been validated)."""
        data = self.cleaned_data
        assignee = data.get("assignee") or ""
        building = data.get("building")
        return QueueFilters(
            status=data.get("status") or "",
            kind=data.get("kind") or "",
            category=data.get("category") or "",
            urgency=data.get("urgency") or "",
            building=building.pk if building else None,
            assignee=int(assignee) if assignee.isdigit() else None,
            unassigned=assignee == UNASSIGNED,
            open_only=bool(data.get("open_only")),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            search=data.get("q") or "",
            due=data.get("due") or "",
        )


# ----------------------------------------------------------------------------- recording a call


def _datetime_field(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


# What the desk records: everything but the owner portal and the devices' alarms.
DESK_CHANNELS = [
    (value, label) for value, label in Channel.choices if value not in (Channel.PORTAL, Channel.IOT)
]


class RecordForm(forms.Form):
    """A call or a visit at the desk: who (found with the lookup, or typed), where, what."""

    reporter = forms.ModelChoiceField(
        queryset=Resident.objects.none(), required=False, widget=forms.HiddenInput
    )
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    common_area = forms.ModelChoiceField(
        label=_("or a common area"), queryset=CommonArea.objects.none(), required=False
    )
    location_note = forms.CharField(label=_("Where exactly"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Caller's name"), max_length=64, required=False)
    contact_phone = forms.CharField(
        label=_("Phone to call back"),
        max_length=MOBILE_INPUT_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=DESK_CHANNELS, initial=Channel.PHONE)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.REPAIR)
    category = forms.ChoiceField(label=_("Category"), choices=CHOOSE + Category.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    description = forms.CharField(
        label=_("What is wrong"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    appointment_start = _datetime_field(_("Visit from"))
    appointment_end = _datetime_field(_("Visit until"))

    def __init__(self, *args, residents, units, common_areas, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = CHOOSE + categories
        self.fields["reporter"].queryset = residents
        self.fields["unit"].queryset = units
        self.fields["common_area"].queryset = common_areas

    def clean_contact_phone(self):
        # Typed as it is read out: spaces, dashes, +86 are dropped before the service checks it.
        return normalize_mobile(self.cleaned_data["contact_phone"])

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


# ----------------------------------------------------------------------------- steps on a request


class HandlerForm(VersionForm):
    """Whom the work goes to: a technician, a team, or a technician of that team."""

    assignee = PersonField(label=_("Technician"), queryset=User.objects.none(), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)

    def __init__(self, *args, people, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = people
        self.fields["team"].queryset = teams


class TransferForm(HandlerForm):
    reason = reason_field(_("Reason"))


class InvestigateForm(VersionForm):
    assignee = PersonField(
        label=_("Handler"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Leave empty to handle it yourself."),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = people


class ReplyForm(VersionForm):
    reply = forms.CharField(
        label=_("Reply"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )


class ReclassifyForm(VersionForm):
    """The request's kind, category and urgency, shown as they are now."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)

    def __init__(self, *args, request, categories, **kwargs):
        super().__init__(*args, **kwargs)
        current = [(request.category, request.get_category_display())]
        # A category no longer offered stays listed while the request has it.
        self.fields["category"].choices = categories + [
            choice for choice in current if choice not in categories
        ]
        for name in ("kind", "category", "urgency"):
            self.initial.setdefault(name, getattr(request, name))


# ----------------------------------------------------------------------------- return visits


class ReturnVisitForm(forms.Form):
    FOLLOW_UPS = [
        ("", _("No follow-up")),
        ("reopen", _("Reopen the repair")),
        ("complaint", _("Open a complaint about it")),
    ]

    method = forms.ChoiceField(
        label=_("How"), choices=ReturnVisit.Method.choices, initial=ReturnVisit.Method.PHONE
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=ReturnVisit.Outcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    follow_up = forms.ChoiceField(
        label=_("Follow-up"),
        choices=FOLLOW_UPS,
        required=False,
        help_text=_("Only when the owner is not satisfied."),
    )


# ----------------------------------------------------------------------------- templates, settings


class ReplyTemplateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=100)
    body = forms.CharField(
        label=_("Text"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 6})
    )


def _visit_field_name(kind: str) -> str:
    return f"visit_{kind}"


class DeskSettingsForm(forms.Form):
    auto_rate_after_hours = forms.IntegerField(
        label=_("Close and rate automatically after (hours)"),
        min_value=1,
        max_value=24 * 90,
        help_text=_("When the owner neither confirms nor rates a finished request."),
    )
    auto_rating = forms.TypedChoiceField(
        label=_("Automatic rating"),
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        coerce=int,
    )
    return_visit_within_hours = forms.IntegerField(
        label=_("Return visit within (hours)"), min_value=1, max_value=24 * 90
    )
    offered_categories = forms.MultipleChoiceField(
        label=_("Categories offered"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What owners and the desk can choose when reporting."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Kind.choices:
            self.fields[_visit_field_name(kind)] = forms.ChoiceField(
                label=_("Return visit: %(kind)s") % {"kind": label},
                choices=DeskSettings.VisitPolicy.choices,
            )

    @staticmethod
    def initial_of(settings_row: DeskSettings) -> dict:
        initial = {
            "auto_rate_after_hours": settings_row.auto_rate_after_hours,
            "auto_rating": settings_row.auto_rating,
            "return_visit_within_hours": settings_row.return_visit_within_hours,
            "offered_categories": [code for code, _label in settings_row.category_choices()],
        }
        for kind in Kind.values:
            initial[_visit_field_name(kind)] = settings_row.visit_policy_for(kind)
        return initial

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "auto_rate_after_hours": data["auto_rate_after_hours"],
            "auto_rating": data["auto_rating"],
            "return_visit_within_hours": data["return_visit_within_hours"],
            "visit_policy": {kind: data[_visit_field_name(kind)] for kind in Kind.values},
            "offered_categories": data["offered_categories"],
        }

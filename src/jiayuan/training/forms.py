"""Forms of the training pages. They parse and offer choices; the rules are the services'."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jiayuan.accounts.models import User
from jiayuan.core.roles import Role
from jiayuan.training.models import (
    MAX_SCORE,
    Attendance,
    CertificateKind,
    CertificateState,
    Course,
    Recurrence,
    Topic,
)
from jiayuan.training.services import MAX_WARNING_THRESHOLDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CourseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    topic = forms.ChoiceField(label=_("Topic"), choices=Topic.choices)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=Course._meta.get_field("description").max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    roles = forms.MultipleChoiceField(
        label=_("For roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    recurrence = forms.ChoiceField(
        label=_("Repeats"), choices=Recurrence.choices, initial=Recurrence.QUARTERLY
    )
    pass_mark = forms.IntegerField(
        label=_("Pass mark"),
        min_value=0,
        max_value=MAX_SCORE,
        initial=60,
        help_text=Course._meta.get_field("pass_mark").help_text,
    )
    is_mandatory = forms.BooleanField(label=_("Mandatory"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class SessionForm(forms.Form):
    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.none())
    whole_company = forms.BooleanField(
        label=_("For the whole company"),
        required=False,
        help_text=_("Otherwise the session is for the current estate."),
    )
    starts_at = forms.DateTimeField(label=_("Starts"), widget=MOMENT)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=MOMENT)
    place = forms.CharField(label=_("Place"), max_length=100)
    trainer = forms.ModelChoiceField(
        label=_("Trainer on the staff"), queryset=User.objects.none(), required=False
    )
    trainer_name = forms.CharField(label=_("Or an outside trainer"), max_length=64, required=False)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=500, initial=30)

    def __init__(self, *args, courses, trainers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses
        self.fields["trainer"].queryset = trainers
        self.fields["trainer"].label_from_instance = lambda user: user.get_short_name()


class CertificateForm(forms.Form):
    holder = forms.ModelChoiceField(label=_("Holder"), queryset=User.objects.none())
    kind = forms.ChoiceField(label=_("Certificate"), choices=CertificateKind.choices)
    number = forms.CharField(label=_("Certificate number"), max_length=64)
    issuer = forms.CharField(label=_("Issued by"), max_length=100)
    issued_on = forms.DateField(label=_("Issued on"), widget=DATE)
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty if it never expires."),
    )
    scan = forms.FileField(
        label=_("Scan"),
        required=False,
        help_text=_("A photo or PDF of the certificate, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,.pdf"}),
    )

    def __init__(self, *args, holders=None, **kwargs):
        super().__init__(*args, **kwargs)
        if holders is None:
            del self.fields["holder"]
        else:
            self.fields["holder"].queryset = holders
            self.fields["holder"].label_from_instance = lambda user: user.get_short_name()


class CertificateFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Certificate"),
        required=False,
        choices=[("", _("All certificates")), *CertificateKind.choices],
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *CertificateState.choices]
    )
    estate = forms.TypedChoiceField(label=_("Estate"), required=False, coerce=int)

    def __init__(self, *args, estates, **kwargs):
        super().__init__(*args, **kwargs)
        self._estates = {estate.pk: estate for estate in estates}
        self.fields["estate"].choices = [("", _("All estates"))] + [
            (estate.pk, estate.name) for estate in estates
        ]

    def clean_estate(self):
        estate_id = self.cleaned_data["estate"]
        return self._estates.get(estate_id) if estate_id not in (None, "") else None


class SettingsForm(forms.Form):
    warning_days = forms.CharField(
        label=_("Warn days before expiry"),
        max_length=40,
        help_text=_(
            "Numbers of days separated by commas, such as 60, 30. The day of expiry is "
            "always warned."
        ),
    )

    def clean_warning_days(self):
        parts = [p.strip() for p in self.cleaned_data["warning_days"].replace("，", ",").split(",")]
        if not all(p.isdigit() for p in parts if p) or len(parts) > MAX_WARNING_THRESHOLDS:
            raise ValidationError(_("Give numbers of days separated by commas, such as 60, 30."))
        return [int(p) for p in parts if p]


# What a recorder can mark; "not recorded" is only where everyone starts.
ATTENDANCE_CHOICES = [
    (status.value, status.label)
    for status in Attendance.Status
    if status != Attendance.Status.INVITED
]

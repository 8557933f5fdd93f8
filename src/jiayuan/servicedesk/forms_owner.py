"""Forms of the owner portal, and the pieces the technician's forms share with them (the
hidden version, a reason, several photos at once). They only parse input: the services
validate it against the rules and their errors come back through
core.forms.add_service_errors."""

from datetime import datetime

from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jiayuan.core.taxonomy import Category
from jiayuan.servicedesk.models import DESCRIPTION_MAX, REASON_MAX, Kind, Urgency
from jiayuan.servicedesk.selectors import ReportChoices
from jiayuan.servicedesk.services import RATING_TAG_CHOICES

CHOOSE = [("", "—")]


class PhotosInput(forms.FileInput):
    """A file input that takes several photos; on a phone it offers the camera too."""

    allow_multiple_selected = True


def _photos_help_now() -> str:
    return gettext("Up to %(n)s photos (JPEG, PNG, WebP or GIF).") % {
        "n": settings.REQUEST_PHOTOS_MAX
    }


# Fields are built when the module loads; their help is translated when a page shows it.
_photos_help = lazy(_photos_help_now, str)


class PhotosField(forms.FileField):
    """Up to REQUEST_PHOTOS_MAX files, handed to the service as a list; the service checks
    that each one is a real image of a sane size."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _photos_help())
        super().__init__(widget=PhotosInput(attrs={"accept": "image/*"}), **kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data or []) if item]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(PhotosField, self).clean(item, initial) for item in files]


class VersionForm(forms.Form):
    """Every step on a request carries the version of the request the page showed, so a
    step taken on a page someone else has overtaken is refused, not applied blindly."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            key: _("This page is out of date. Reload it and try again.")
            for key in ("required", "invalid", "min_value")
        },
    )


def reason_field(label, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=REASON_MAX,
        required=required,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(VersionForm):
    reason = reason_field(_("Reason"))


class CancelForm(VersionForm):
    reason = reason_field(_("Reason (optional)"), required=False)


class PhotosForm(VersionForm):
    photos = PhotosField(label=_("Photos"), required=True)


STARS = [(n, f"{n}★") for n in range(1, 6)]


def stars_field(label, *, required: bool = False) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=STARS,
        coerce=int,
        required=required,
        empty_value=None,
        widget=forms.RadioSelect(attrs={"class": "sd-stars"}),
    )


def _tag_choices() -> list[tuple[str, str]]:
    # Stored in English, the message id, and shown translated: ratings read the same in
    # every language.
    with translation.override(None):
        stored = [str(tag) for tag in RATING_TAG_CHOICES]
    return [(value, str(tag)) for value, tag in zip(stored, RATING_TAG_CHOICES, strict=True)]


class RatingForm(VersionForm):
    overall = stars_field(_("Overall"), required=True)
    timeliness = stars_field(_("Timeliness"))
    attitude = stars_field(_("Attitude"))
    quality = stars_field(_("Quality of the work"))
    tags = forms.MultipleChoiceField(
        label=_("Tags"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "sd-tags"}),
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = _tag_choices()


# ----------------------------------------------------------------------------- reporting


UNIT, AREA = "unit", "area"


class ReportForm(forms.Form):
    """An owner's report: what, where (one of their units or a common area of their
    estate), and when they are at home for a repair."""

    kind = forms.ChoiceField(label=_("What is it?"), choices=Kind.choices, initial=Kind.REPAIR)
    # Left empty, it is chosen from the description (views_owner.owner_create).
    category = forms.ChoiceField(
        label=_("Category"),
        choices=CHOOSE + Category.choices,
        required=False,
        help_text=_("Not sure? Leave it empty and we will choose from your description."),
    )
    place = forms.ChoiceField(label=_("Where"))
    location_note = forms.CharField(
        label=_("Location details"),
        max_length=200,
        required=False,
        help_text=_("For example: kitchen sink, or 3rd floor stairwell."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    photos = PhotosField(label=_("Photos"))
    appointment_day = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    appointment_start = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    appointment_end = forms.TimeField(
        label=_("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    praised_staff = forms.TypedChoiceField(
        label=_("Who would you like to praise?"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Only for praise."),
    )

    APPOINTMENT_FIELDS = ("appointment_day", "appointment_start", "appointment_end")

    def __init__(self, *args, choices: ReportChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = CHOOSE + choices.categories
        self._units = {unit.pk: unit for unit in choices.units}
        self._areas = {area.pk: area for area in choices.common_areas}
        self._staff = {user.pk: user for _estate, user in choices.staff}
        several_estates = len({unit.estate_id for unit in choices.units}) > 1
        places = [(_("My units"), [(f"{UNIT}-{u.pk}", u.label) for u in choices.units])]
        by_estate: dict = {}
        for area in choices.common_areas:
            by_estate.setdefault(area.estate, []).append((f"{AREA}-{area.pk}", area.name))
        for estate, areas in by_estate.items():
            places.append((_("Common areas of %(estate)s") % {"estate": estate.name}, areas))
        self.fields["place"].choices = places
        if choices.units:
            self.fields["place"].initial = f"{UNIT}-{choices.units[0].pk}"
        staff_by_estate: dict = {}
        for estate, user in choices.staff:
            staff_by_estate.setdefault(estate.name, []).append((user.pk, user.get_short_name()))
        self.fields["praised_staff"].choices = CHOOSE + (
            list(staff_by_estate.items())
            if several_estates
            else [choice for group in staff_by_estate.values() for choice in group]
        )

    def clean_place(self) -> dict:
        # The choice field has already checked the value is one of the listed places.
        kind, _sep, pk = self.cleaned_data["place"].partition("-")
        place = (self._units if kind == UNIT else self._areas)[int(pk)]
        if kind == UNIT:
            return {"estate": place.estate, "unit": place, "common_area": None}
        return {"estate": place.estate, "unit": None, "common_area": place}

    def clean_praised_staff(self):
        pk = self.cleaned_data["praised_staff"]
        return self._staff.get(pk) if pk is not None else None

    def clean(self):
        cleaned = super().clean()
        given = [cleaned.get(name) for name in self.APPOINTMENT_FIELDS]
        day, start, end = given
        if any(given) and not all(given):
            if not any(name in self.errors for name in self.APPOINTMENT_FIELDS):
                self.add_error(
                    "appointment_day", _("Give the day and both times, or leave all three empty.")
                )
            return cleaned
        cleaned["appointment_start"] = _at(day, start) if day else None
        cleaned["appointment_end"] = _at(day, end) if day else None
        return cleaned

    def service_kwargs(self) -> dict:
        """The cleaned report as request_create's keyword arguments."""
        data = self.cleaned_data
        return {
            **data["place"],
            "kind": data["kind"],
            "category": data["category"],
            "urgency": data["urgency"],
            "location_note": data["location_note"],
            "description": data["description"],
            "appointment_start": data["appointment_start"],
            "appointment_end": data["appointment_end"],
            "praised_staff": data["praised_staff"],
            "photos": data["photos"],
        }


def _at(day, clock) -> datetime:
    return timezone.make_aware(datetime.combine(day, clock))

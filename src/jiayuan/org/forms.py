"""Forms for the estate pages. They only parse input: the services in org/services.py
validate it against the models and the rules, and their errors come back through
core.forms.add_service_errors."""

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from jiayuan.accounts.models import User
from jiayuan.core.roles import Role
from jiayuan.core.taxonomy import Category
from jiayuan.org.models import (
    Building,
    CommonArea,
    Estate,
    Residency,
    Resident,
    Team,
    Unit,
)


def model_field(model, name: str, **overrides) -> forms.Field:
    """The model field's form field: its label, length limit and choices in one place."""
    return model._meta.get_field(name).formfield(**overrides)


# A typed mobile may carry spaces, dashes or +86 before the service normalises it.
MOBILE_INPUT_LENGTH = 20


def mobile_field(*, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=_("Mobile"),
        max_length=MOBILE_INPUT_LENGTH,
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )


def date_field(label, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label, required=required, widget=forms.DateInput(attrs={"type": "date"})
    )


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_full_name()} ({obj.username})"


class EstateForm(forms.Form):
    name = model_field(Estate, "name")
    code = model_field(Estate, "code")
    kind = model_field(Estate, "kind")
    city = model_field(Estate, "city")
    address = model_field(Estate, "address")
    total_area = model_field(Estate, "total_area")
    service_phone = model_field(Estate, "service_phone")
    is_active = model_field(Estate, "is_active")


class BuildingForm(forms.Form):
    name = model_field(Building, "name")
    floors_above = model_field(Building, "floors_above")
    floors_below = model_field(Building, "floors_below")
    note = model_field(Building, "note")


class UnitForm(forms.Form):
    entrance = model_field(Unit, "entrance")
    number = model_field(Unit, "number")
    floor = model_field(Unit, "floor")
    gross_area = model_field(Unit, "gross_area")
    inner_area = model_field(Unit, "inner_area")
    status = model_field(Unit, "status")


class UnitCreateForm(UnitForm):
    building = forms.ModelChoiceField(label=_("Building"), queryset=Building.objects.none())
    field_order = ["building"]

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings


class CommonAreaForm(forms.Form):
    name = model_field(CommonArea, "name")
    kind = model_field(CommonArea, "kind")
    building = forms.ModelChoiceField(
        label=_("Building"),
        queryset=Building.objects.none(),
        required=False,
        help_text=_("Leave empty for an area of the whole estate."),
    )
    note = model_field(CommonArea, "note")

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings


class ResidentForm(forms.Form):
    name = model_field(Resident, "name")
    mobile = mobile_field()
    tier = model_field(Resident, "tier")
    note = model_field(Resident, "note")


class MoveInForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    relation = forms.ChoiceField(
        label=_("Relation"),
        choices=Residency.Relation.choices,
        initial=Residency.Relation.OWNER,
    )
    moved_in_on = date_field(_("Moved in"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class ResidentCreateForm(ResidentForm, MoveInForm):
    """A walk-in registered in one go: the person and, usually, the unit they live in."""

    field_order = ["name", "mobile", "unit", "relation", "moved_in_on", "tier", "note"]

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, units=units, **kwargs)
        self.fields["unit"].required = False
        self.fields["unit"].help_text = _(
            "Where the resident lives. Only company-wide staff may leave it empty."
        )


class MoveOutForm(forms.Form):
    moved_out_on = date_field(_("Moved out"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["moved_out_on"].help_text = _("Empty means today.")


class NewPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form so that the rules are listed in the language of the request.
        self.fields["password"].help_text = password_validators_help_text_html()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


class StaffAddForm(NewPasswordForm):
    username = model_field(User, "username")
    name = model_field(User, "name", required=True)
    mobile = mobile_field(required=False)
    email = model_field(User, "email")
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    field_order = ["username", "name", "mobile", "email", "role", "password", "password_again"]


class GrantForm(forms.Form):
    user = PersonChoiceField(label=_("Staff member"), queryset=User.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people


class TeamForm(forms.Form):
    name = model_field(Team, "name")
    skills = forms.MultipleChoiceField(
        label=_("Skills"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lead = PersonChoiceField(label=_("Team lead"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = people


class TeamMemberForm(forms.Form):
    user = PersonChoiceField(label=_("Staff member"), queryset=User.objects.none())

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people


class UnitFilterForm(forms.Form):
    building = forms.ModelChoiceField(
        label=_("Building"),
        queryset=Building.objects.none(),
        required=False,
        empty_label=_("All buildings"),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *Unit.Status.choices], required=False
    )
    q = forms.CharField(label=_("Unit number"), max_length=50, required=False)

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings

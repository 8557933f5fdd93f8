"""Forms shared by the core pages, and the helper that hands a service's ValidationError
back to a form."""

from django import forms
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's field errors to the matching form fields, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _audited_model_choices() -> list[tuple[str, str]]:
    """Every model with an access rule can be the target of an audit event."""
    return sorted(
        (
            (model._meta.label_lower, str(model._meta.verbose_name).capitalize())
            for model in apps.get_models()
            if hasattr(model, "access")
        ),
        key=lambda choice: choice[1],
    )


class AuditFilterForm(forms.Form):
    """The audit browser's filters. Every field is optional; a bad value is a form error."""

    estate = forms.TypedChoiceField(label=_("Estate"), required=False, coerce=int)
    code = forms.ChoiceField(label=_("Event"), required=False)
    actor = forms.CharField(label=_("Who"), required=False, max_length=150)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    target_type = forms.ChoiceField(label=_("Object type"), required=False)

    def __init__(self, *args, estates, **kwargs):
        super().__init__(*args, **kwargs)
        self._estates = {estate.pk: estate for estate in estates}
        self.fields["estate"].choices = [("", _("All estates"))] + [
            (estate.pk, estate.name) for estate in estates
        ]
        self.fields["code"].choices = [("", _("All events")), *AuditCode.all_choices()]
        self.fields["target_type"].choices = [("", _("All types")), *_audited_model_choices()]

    def clean_estate(self):
        estate_id = self.cleaned_data["estate"]
        return self._estates.get(estate_id) if estate_id not in (None, "") else None

    def clean_target_type(self):
        label = self.cleaned_data["target_type"]
        if not label:
            return None
        return ContentType.objects.get_for_model(apps.get_model(label))

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

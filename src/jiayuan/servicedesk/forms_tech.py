"""Forms of the technician's pages. Like the owner's, they only parse input; the services
check it (and compute the charge) and their errors come back onto the form."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from jiayuan.servicedesk.forms_owner import PhotosField, ReasonForm, VersionForm
from jiayuan.servicedesk.models import DESCRIPTION_MAX
from jiayuan.servicedesk.services import MAX_MATERIAL_LINES

# Empty material rows on the completion form; "More lines" adds as many again.
MATERIAL_ROWS = 5
MONEY = {"max_digits": 10, "decimal_places": 2}


class ReturnForm(ReasonForm):
    to_previous = forms.BooleanField(
        label=_("Give it back to whoever held it before me"),
        required=False,
        help_text=_("Otherwise it goes back to the dispatcher."),
    )


class CompleteForm(VersionForm):
    work_notes = forms.CharField(
        label=_("What was done"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos_before = PhotosField(label=_("Photos before the work"))
    photos_after = PhotosField(label=_("Photos after the work"))
    is_paid = forms.BooleanField(label=_("Paid repair"), required=False)
    labour_fee = forms.DecimalField(
        label=_("Labour fee (¥)"),
        required=False,
        min_value=Decimal("0"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        **MONEY,
    )


class MaterialLineForm(forms.Form):
    """One material used; a row left empty is no line at all."""

    item = forms.CharField(label=_("Item"), max_length=100, required=False)
    unit_price = forms.DecimalField(
        label=_("Unit price (¥)"),
        required=False,
        min_value=Decimal("0"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        **MONEY,
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )

    def clean(self):
        cleaned = super().clean()
        given = [cleaned.get(name) not in (None, "") for name in ("item", "unit_price", "quantity")]
        if any(given) and not all(given) and not self.errors:
            raise forms.ValidationError(_("Give the item, its unit price and the quantity."))
        return cleaned

    def as_line(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("item"):
            return None
        return {key: data[key] for key in ("item", "unit_price", "quantity")}


MaterialFormSet = forms.formset_factory(
    MaterialLineForm,
    extra=0,
    max_num=MAX_MATERIAL_LINES,
    absolute_max=MAX_MATERIAL_LINES,
    validate_max=True,
)
MATERIALS_PREFIX = "materials"


def material_formset(data=None, *, rows: list[dict] | None = None) -> forms.BaseFormSet:
    """The material rows: bound to a POST, or unbound showing `rows` (what was typed
    before "More lines") followed by empty rows."""
    if data is not None:
        return MaterialFormSet(data, prefix=MATERIALS_PREFIX)
    rows = list(rows or [])[: MAX_MATERIAL_LINES - MATERIAL_ROWS]
    return MaterialFormSet(initial=rows + [{}] * MATERIAL_ROWS, prefix=MATERIALS_PREFIX)


def typed_rows(data) -> list[dict]:
    """The rows a POST carried, as typed (for showing them again with more empty rows)."""
    count = min(
        MaterialFormSet(data, prefix=MATERIALS_PREFIX).total_form_count(), MAX_MATERIAL_LINES
    )
    fields = ("item", "unit_price", "quantity")
    rows = []
    for index in range(count):
        row = {name: data.get(f"{MATERIALS_PREFIX}-{index}-{name}", "") for name in fields}
        if any(row.values()):
            rows.append(row)
    return rows

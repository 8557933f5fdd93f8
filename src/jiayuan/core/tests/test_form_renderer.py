"""Selects, inputs, labels and empty error lists written in Python are the same HTML, to the
byte, as Django's templates."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from jiayuan.core.form_renderer import FormRenderer
from jiayuan.org.models import Company

HOSTILE = "<script>alert(\"x\")</script> & 'quotes'"


class Everything(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Any"), ("a", "甲"), ("b", HOSTILE), (3, 3000)])
    grouped = forms.ChoiceField(
        choices=[("Fruit", [("apple", "Apple"), ("pear", _("Pear"))]), ("x", "Loose")]
    )
    many = forms.MultipleChoiceField(choices=[("1", "One"), ("2", "Two"), ("3", "Three")])
    maybe = forms.NullBooleanField()
    flagged = forms.ChoiceField(
        choices=[("on", mark_safe("<b>bold</b>")), ("off", "Off")],
        widget=forms.Select(attrs={"class": 'q"x', "disabled": True, "hidden": False}),
    )
    company = forms.ModelChoiceField(queryset=Company.objects.order_by("pk"), required=False)


class Inputs(forms.Form):
    """Every widget the renderer writes itself, with labels that need escaping."""

    text = forms.CharField(label=HOSTILE, max_length=5, help_text="help")
    number = forms.IntegerField(label=_("Number"), required=False)
    email = forms.EmailField(required=False, label_suffix="")
    url = forms.URLField(required=False, assume_scheme="https")
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    when = forms.DateTimeField(required=False)
    time = forms.TimeField(required=False)
    search = forms.CharField(widget=forms.SearchInput(attrs={"placeholder": HOSTILE}))
    tel = forms.CharField(widget=forms.TelInput, required=False)
    checkbox = forms.BooleanField(required=False, label=mark_safe("<b>bold</b>"))


class Radios(forms.Form):
    choice = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"plain": "b", "grouped": "pear", "many": ["1", "3"], "maybe": "true", "flagged": "on"},
        {"plain": HOSTILE, "many": ["<x>"], "maybe": "false"},
    ],
)
def test_selects_render_exactly_as_the_templates_do(data):
    Company.objects.create(name=HOSTILE, code="hostile")
    Company.objects.create(name="家园物业", code="jy")
    theirs = Everything(data or None, renderer=DjangoTemplates())
    ours = Everything(data or None, renderer=FormRenderer())
    theirs.is_valid(), ours.is_valid()
    for name in Everything.base_fields:
        made_here = ours[name].as_widget(attrs={"data-x": 1})
        assert made_here == theirs[name].as_widget(attrs={"data-x": 1}), name
        assert "<script>" not in made_here and "<option" in made_here


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"text": HOSTILE, "number": "x", "email": "a@b", "search": "q", "checkbox": "on"},
        {"text": "ok", "number": "12", "hidden": HOSTILE, "password": "<p>", "date": "2026-12-07"},
    ],
)
def test_inputs_labels_and_error_lists_render_exactly_as_the_templates_do(data):
    theirs = Inputs(data, renderer=DjangoTemplates(), auto_id="id_%s")
    ours = Inputs(data, renderer=FormRenderer(), auto_id="id_%s")
    theirs.is_valid(), ours.is_valid()
    assert ours.as_p() == theirs.as_p()  # labels, errors (empty or not), help and widgets
    for name in Inputs.base_fields:
        assert str(ours[name]) == str(theirs[name]), name
        assert ours[name].label_tag() == theirs[name].label_tag(), name
        assert ours[name].legend_tag() == theirs[name].legend_tag(), name
        assert str(ours[name].errors) == str(theirs[name].errors), name
        assert "<script>" not in str(ours[name]) + ours[name].label_tag()
    no_ids = Inputs(data, renderer=FormRenderer(), auto_id=False)
    assert no_ids["text"].label_tag() == Inputs(data, auto_id=False)["text"].label_tag()
    assert no_ids["text"].label_tag().startswith("&lt;script&gt;")


def test_other_widgets_keep_their_templates():
    form = Radios({"choice": "a"}, renderer=FormRenderer())
    theirs = Radios({"choice": "a"}, renderer=DjangoTemplates())
    assert str(form["choice"]) == str(theirs["choice"])
    assert 'type="radio"' in str(form["choice"])
    # A group of radios has an id but no single input for its label: a label without "for".
    assert form["choice"].label_tag() == theirs["choice"].label_tag() == "<label>Choice:</label>"


def test_every_form_uses_it():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FormRenderer)

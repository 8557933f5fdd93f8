"""Selects written in Python are the same HTML, to the byte, as Django's templates."""

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


def test_other_widgets_keep_their_templates():
    form = Radios({"choice": "a"}, renderer=FormRenderer())
    assert str(form["choice"]) == str(Radios({"choice": "a"}, renderer=DjangoTemplates())["choice"])
    assert 'type="radio"' in str(form["choice"])


def test_every_form_uses_it():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FormRenderer)

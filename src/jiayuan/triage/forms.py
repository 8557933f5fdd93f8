"""What a report form needs to ask for suggestions as the person types (htmx), and to be
prefilled by them (static/jiayuan/app.js): the selects a suggestion may fill are marked,
and the description posts itself, debounced, to the page's suggestion URL."""

from django import forms

from jiayuan.triage.corpus import FIELDS

# The element the suggestion fragment replaces (templates/triage/_suggestion.html).
TARGET = "triage-suggestion"


def ask_for_suggestions(form: forms.Form, url: str) -> None:
    for name in FIELDS:
        form.fields[name].widget.attrs["data-prefill"] = name
    form.fields["description"].widget.attrs.update(
        {
            "hx-post": url,
            "hx-trigger": "input changed delay:600ms, blur changed",
            "hx-target": f"#{TARGET}",
            "hx-swap": "outerHTML",
            "hx-sync": "this:replace",
            "aria-describedby": TARGET,
        }
    )

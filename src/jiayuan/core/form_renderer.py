"""The form renderer every form uses (settings.FORM_RENDERER)."""

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
LABEL = "django/forms/label.html"
ERRORS = "django/forms/errors/list/default.html"
# The widgets whose template is no more than an include of input.html (a line of its own).
INPUTS = {
    f"django/forms/widgets/{kind}.html"
    for kind in (
        "text", "number", "email", "url", "password", "hidden", "date", "datetime", "time",
        "search", "tel", "checkbox",
    )
}  # fmt: skip


def _attrs(attrs: dict | None) -> str:
    """Django's attrs.html: `name` for True, nothing for False, `name="value"` otherwise."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(str(value))}"'
        for name, value in (attrs or {}).items()
        if value is not False
    )


def _option(option: dict) -> str:
    value = conditional_escape(str(option["value"]))
    label = conditional_escape(localize(option["label"]))
    return f'<option value="{value}"{_attrs(option["attrs"])}>{label}</option>'


def _select(widget: dict) -> str:
    """The same HTML, to the byte, as Django's select.html and select_option.html."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(localize(group_name))}">')
        # The option template's file ends in a newline, which Django's output keeps.
        parts.extend(f"\n  {_option(option)}\n" for option in options)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _input(widget: dict) -> str:
    """Django's input.html (the renderer strips the newlines the template files end in)."""
    value = widget["value"]
    value = "" if value is None else f' value="{conditional_escape(str(value))}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _label(context: dict) -> str:
    """Django's label.html."""
    label = conditional_escape(context["label"])
    if not context["use_tag"]:
        return label
    tag = conditional_escape(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


class FormRenderer(DjangoTemplates):
    """Django's renderer, except that the commonest pieces of a form are written here, to
    the byte as Django's templates write them: a select and its options, a plain input, a
    label and an empty error list. Through the templates each option cost about 0.13 ms (8
    ms for the desk queue's filter bar of 55 options, on every page) and each label, input
    or empty error list 0.1–0.2 ms. A widget with its own option template, or a list with
    errors in it, keeps the templates."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if template_name in INPUTS:
            html = _input(widget)
        elif template_name == LABEL:
            html = _label(context)
        elif template_name == ERRORS and not context["errors"]:
            html = ""
        elif template_name == SELECT and all(
            option["template_name"] == OPTION
            for _name, options, _index in widget["optgroups"]
            for option in options
        ):
            html = _select(widget)
        else:
            return super().render(template_name, context, request)
        return mark_safe(html)  # noqa: S308 - every value is escaped above

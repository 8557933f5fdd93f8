from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    """Username or mobile number, and password; the backend accepts either."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The username, mobile number or password is wrong. Both may be case-sensitive."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.label = _("Username or mobile")
        username.widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        # The parent sets max_length after the field is built, so no validator enforces it;
        # an over-long name must be refused here, before the lockout records try to store it.
        username.validators.append(MaxLengthValidator(username.max_length))
        self.fields["password"].label = _("Password")


class NewPasswordForm(forms.Form):
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_confirm = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password"), cleaned.get("new_password_confirm")
        if first and second and first != second:
            self.add_error("new_password_confirm", _("The two passwords are not the same."))
        return cleaned


class PasswordChangeForm(NewPasswordForm):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "new_password", "new_password_confirm"]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “reporting script”."),
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        # The allowed range is the service's rule; its error lands on this field.
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
        help_text=_("Leave empty for a token that does not expire."),
    )

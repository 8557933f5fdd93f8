from django import forms
from django.utils.translation import gettext_lazy as _

from jiayuan.comms.selectors import notifications_for


class MarkReadForm(forms.Form):
    """Either some of the person's own notifications, or all of them."""

    ids = forms.ModelMultipleChoiceField(queryset=None, required=False)
    all = forms.BooleanField(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].queryset = notifications_for(user)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("all") and not cleaned.get("ids") and not self.errors:
            raise forms.ValidationError(_("Choose the notifications to mark as read."))
        return cleaned

    def chosen_ids(self) -> list[int] | None:
        """None means every notification."""
        if self.cleaned_data["all"]:
            return None
        return [notification.pk for notification in self.cleaned_data["ids"]]

"""Reads for the account pages."""

from django.http import Http404
from django.utils.translation import gettext as _

from jiayuan.accounts.models import ApiToken, User
from jiayuan.accounts.services import may_reset_password


def password_reset_target(actor, pk) -> User:
    """The user whose password the actor may reset; anyone else is reported missing."""
    user = User.objects.filter(pk=pk).first()
    if user is None or not may_reset_password(actor, user):
        raise Http404(_("Not found."))
    return user


def own_tokens(user):
    """The person's own API tokens, newest first (a superuser's list is theirs too)."""
    return ApiToken.objects.restrict(user).filter(user=user)

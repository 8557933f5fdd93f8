from django.contrib.auth.backends import ModelBackend

from jiayuan.accounts.models import User
from jiayuan.core.phones import normalize_mobile


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with the username or the mobile number, and the password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        identifier = str(username).strip()
        user = User.objects.filter(username__iexact=identifier).first()
        if user is None:
            mobile = normalize_mobile(identifier)
            if mobile.isdigit():
                user = User.objects.filter(mobile=mobile).first()
        if user is None:
            # Spend the same time as a real check so timing does not reveal usernames.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

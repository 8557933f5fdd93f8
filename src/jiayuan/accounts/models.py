import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import VIEW, Access, RestrictedQuerySet
from jiayuan.core.phones import mask_mobile, validate_mainland_mobile
from jiayuan.core.roles import MANAGERS


class RestrictedUserManager(UserManager.from_queryset(RestrictedQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in: staff member or resident. Sign in with username or mobile."""

    name = models.CharField(_("name"), max_length=64, blank=True)
    mobile = models.CharField(
        _("mobile"),
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_mainland_mobile],
    )
    preferred_language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    objects = RestrictedUserManager()
    # Managers see the people who work in their estates; everyone sees themselves.
    access = Access(
        staff={VIEW: MANAGERS},
        estate_path="memberships__estate_id",
        company_path="memberships__company_id",
        owner_path="pk",
        owner_actions=frozenset({VIEW}),
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.name or self.username

    def get_short_name(self):
        return self.name or self.username

    def get_full_name(self):
        return self.name or self.username

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile or "")


TOKEN_PREFIX = "jy"  # noqa: S105 - a public marker on tokens, not a secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(RestrictedQuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest is stored; the secret is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()
    access = Access(owner_path="user", owner_actions=frozenset({VIEW, "change"}))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({TOKEN_PREFIX}_{self.key_id}…)"

    @staticmethod
    def new_secret() -> tuple[str, str, str]:
        """(full token shown once, key id stored in clear for lookup, digest stored)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return f"{TOKEN_PREFIX}_{key_id}_{secret}", key_id, _digest(secret)

    @staticmethod
    def split(token: str) -> tuple[str, str] | None:
        parts = (token or "").split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        return parts[1], parts[2]

    def matches(self, secret: str) -> bool:
        return self.digest_matches(self.digest, secret)

    @staticmethod
    def digest_matches(digest: str, secret: str) -> bool:
        return secrets.compare_digest(digest, _digest(secret))

    @staticmethod
    def digest_of(secret: str) -> str:
        return _digest(secret)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

"""Sign-in accounts: passwords and personal API tokens."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.accounts.events import AccountEvent
from jiayuan.accounts.models import ApiToken, User
from jiayuan.core.access import CHANGE, grants_known_empty, grants_of
from jiayuan.core.audit import record_event
from jiayuan.core.db import columns_of, models_read
from jiayuan.core.roles import MANAGERS, Role
from jiayuan.org.models import Membership

# Last-used times are written at most this often, so busy clients do not write on every call.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 20


@transaction.atomic
def password_change(*, actor: User, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password or ""):
        raise ValidationError({"old_password": _("The current password is wrong.")})
    try:
        validate_password(new_password, actor)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    actor.set_password(new_password)
    actor.save(update_fields=["password"])
    record_event(actor=actor, code=AccountEvent.PASSWORD_CHANGED, target=actor)


@transaction.atomic
def user_record_sign_in(*, actor: User) -> None:
    """Called by the sign-in page once the session is open. Failed attempts are django-axes'
    record, so they are not audited here as well."""
    record_event(actor=actor, code=AccountEvent.SIGNED_IN, target=actor)


@transaction.atomic
def user_record_sign_out(*, actor: User) -> None:
    record_event(actor=actor, code=AccountEvent.SIGNED_OUT, target=actor)


@transaction.atomic
def user_set_language(*, actor: User, language: str) -> User:
    """The language the person's pages use from their next sign-in on, on any device."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    before = actor.preferred_language
    if before != language:
        actor.preferred_language = language
        actor.save(update_fields=["preferred_language"])
        record_event(
            actor=actor,
            code=AccountEvent.LANGUAGE_CHANGED,
            target=actor,
            before={"preferred_language": before},
            after={"preferred_language": language},
        )
    return actor


def _manages(actor: User, user: User) -> bool:
    """An admin or manager may reset the password of people who work or live in estates
    they manage; company admins also reset other company admins of their company."""
    if actor.is_superuser:
        return True
    if user.is_superuser or user.pk == actor.pk:
        return False
    managed_estates = set()
    managed_companies = set()
    for grant in grants_of(actor):
        if grant.role == Role.COMPANY_ADMIN:
            managed_companies.add(grant.company_id)
        elif grant.role in MANAGERS and grant.estate_id:
            managed_estates.add(grant.estate_id)
    for grant in grants_of(user):
        if grant.company_id in managed_companies:
            continue
        if grant.estate_id in managed_estates and grant.role not in MANAGERS:
            continue
        return False
    if grants_of(user):
        return True
    resident = getattr(user, "resident", None)
    if resident is None:
        return False
    from jiayuan.org.models import Residency

    estates = set(
        Residency.objects.filter(resident=resident).values_list("unit__estate_id", flat=True)
    )
    return resident.company_id in managed_companies or bool(estates & managed_estates)


def may_reset_password(actor: User, user: User) -> bool:
    """Pages ask this before showing the reset form, so that a person the actor does not
    manage looks exactly like one who does not exist."""
    return _manages(actor, user)


@transaction.atomic
def password_reset_by_admin(*, actor: User, user: User, new_password: str) -> None:
    if not _manages(actor, user):
        raise PermissionDenied(_("You are not allowed to do this."))
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record_event(actor=actor, code=AccountEvent.PASSWORD_RESET, target=user)


@transaction.atomic
def token_create(*, actor: User, name: str, expires_in_days: int | None = None):
    """Returns (token row, the full secret — shown to the user exactly once)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Use at most 100 characters.")})
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ValidationError({"expires_in_days": _("Choose between 1 and 3650 days.")})
    if ApiToken.objects.filter(user=actor).usable().count() >= MAX_TOKENS_PER_USER:
        raise ValidationError(_("You have too many tokens; revoke one first."))
    full, key_id, digest = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        key_id=key_id,
        digest=digest,
        expires_at=(timezone.now() + timedelta(days=expires_in_days)) if expires_in_days else None,
    )
    record_event(
        actor=actor,
        code=AccountEvent.TOKEN_CREATED,
        target=token,
        after={"name": name, "key_id": key_id},
    )
    return token, full


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if not ApiToken.objects.restrict(actor, CHANGE).filter(pk=token.pk).exists():
        raise PermissionDenied(_("You are not allowed to do this."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(actor=actor, code=AccountEvent.TOKEN_REVOKED, target=token)
    return token


def _token_sign_in_sql(*, touching: bool) -> str:
    """The user behind a token key with the token's id and digest and whether the user holds
    any staff membership. `touching` (PostgreSQL): the same statement also writes the
    token's last use when it is older than the touch interval and the secret's digest
    matches, which spares a second statement; elsewhere the row says whether it is stale."""
    token, user = ApiToken._meta.db_table, User._meta.db_table
    membership = Membership._meta.db_table
    usable = (
        "t.key_id = %s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > %s)"
    )
    stale = "(t.last_used_at IS NULL OR t.last_used_at < %s)"
    select = (
        f"SELECT {columns_of(User, 'u')}, t.id, t.digest, "  # noqa: S608 - our tables
        f"EXISTS (SELECT 1 FROM {membership} m WHERE m.user_id = u.id AND m.is_active)"
    )
    if not touching:
        return f"{select}, {stale} FROM {token} t JOIN {user} u ON u.id = t.user_id WHERE {usable}"
    # A data-modifying WITH runs whether or not the query reads it.
    return (
        f"WITH t AS (SELECT * FROM {token} t WHERE {usable}), "  # noqa: S608 - our tables
        f"touched AS (UPDATE {token} SET last_used_at = %s WHERE id IN ("
        f"SELECT t.id FROM t JOIN {user} u ON u.id = t.user_id "
        f"WHERE u.is_active AND t.digest = %s AND {stale})) "
        f"{select} FROM t JOIN {user} u ON u.id = t.user_id"
    )


# Every API call signs in: the statement is written out rather than built by the ORM on
# each call (a third of the CPU; decisions §28).
TOKEN_SIGN_IN_SQL = {touching: _token_sign_in_sql(touching=touching) for touching in (False, True)}
# What the statement reads after the user's columns (and, not touching, `token_stale`).
TOKEN_SIGN_IN_EXTRAS = ("token_id", "token_digest", "is_staff_member")


def token_authenticate(raw: str) -> User | None:
    """The user behind a usable bearer token, or None. Touches last_used_at at most once a
    minute."""
    parts = ApiToken.split(raw)
    if parts is None:
        return None
    key_id, secret = parts
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    stale_before = adapt(now - TOKEN_TOUCH_INTERVAL)
    touching = connection.vendor == "postgresql"
    if touching:
        params = [key_id, adapt(now), adapt(now), ApiToken.digest_of(secret), stale_before]
    else:
        params = [stale_before, key_id, adapt(now)]
    extras = TOKEN_SIGN_IN_EXTRAS if touching else (*TOKEN_SIGN_IN_EXTRAS, "token_stale")
    user = next(iter(models_read(User, TOKEN_SIGN_IN_SQL[touching], params, extras=extras)), None)
    if user is None or not ApiToken.digest_matches(user.token_digest, secret):
        return None
    if not user.is_active:
        return None
    # Most callers are owners: whether the user is staff at all comes with the token, which
    # spares owners the read of their (no) memberships on every call.
    if not user.is_staff_member:
        grants_known_empty(user)
    if not touching and user.token_stale:
        ApiToken.objects.filter(pk=user.token_id).update(last_used_at=now)
    return user

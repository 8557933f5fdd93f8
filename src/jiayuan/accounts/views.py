from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from jiayuan.accounts import selectors, services
from jiayuan.accounts.forms import (
    NewPasswordForm,
    PasswordChangeForm,
    SignInForm,
    TokenCreateForm,
)
from jiayuan.core.access import CHANGE, get_visible
from jiayuan.core.forms import add_service_errors
from jiayuan.core.views import safe_next, safe_referer

# The secret of a just-created API token waits here for the one page view that shows it.
SHOW_ONCE_SESSION_KEY = "accounts.new_token_secret"


class SignInView(auth_views.LoginView):
    """Sign-in; LoginView already follows `next` only when it points at this site."""

    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        services.user_record_sign_in(actor=user)
        language = user.preferred_language
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        user = request.user
        response = super().post(request, *args, **kwargs)
        if user.is_authenticated:
            services.user_record_sign_out(actor=user)
        return response


@require_POST
def set_language(request):
    """Django's language switch (cookie, safe `next`), and for a signed-in person also their
    saved preference, which the sign-in page applies on any device."""
    if request.user.is_authenticated:
        try:
            services.user_set_language(
                actor=request.user, language=request.POST.get("language", "")
            )
        except ValidationError as exc:
            # Django's view would still store any language it has a catalogue for.
            messages.error(request, " ".join(exc.messages))
            return redirect(safe_next(request, safe_referer(request) or reverse("core:home")))
    return django_set_language(request)


def locked_out(request, original_response=None, credentials=None):
    """What django-axes answers once a username has failed too often from an address."""
    return render(request, "accounts/locked_out.html", status=429)


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("core:home")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
def password_reset(request, pk):
    target = selectors.password_reset_target(request.user, pk)
    form = NewPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_by_admin(
                actor=request.user, user=target, new_password=form.cleaned_data["new_password"]
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("The password of %(name)s has been reset.") % {"name": target}
            )
            return redirect(safe_next(request, reverse("core:home")))
    return render(
        request,
        "accounts/password_reset.html",
        {"form": form, "target": target, "next": safe_next(request, "")},
    )


@never_cache
@login_required
def tokens(request):
    """The person's API tokens. A created token's secret is shown on the page the creation
    redirects to and then forgotten, so reloading neither repeats the creation nor the
    secret."""
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, secret = services.token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session[SHOW_ONCE_SESSION_KEY] = secret
            return redirect("accounts:tokens")
    elif request.method == "GET":
        new_secret = request.session.pop(SHOW_ONCE_SESSION_KEY, None)
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": selectors.own_tokens(request.user), "new_secret": new_secret},
    )


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_visible(selectors.own_tokens(request.user), request.user, CHANGE, pk=pk)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token “%(name)s” has been revoked.") % {"name": token.name})
    return redirect("accounts:tokens")

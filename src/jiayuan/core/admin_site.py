"""The Django admin as the back office for company admins, scoped by restrict() like every
other page."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from jiayuan.core.access import ADD, CHANGE, DELETE, VIEW, has_role_anywhere
from jiayuan.core.roles import Role


class JiayuanAdminSite(admin.AdminSite):
    site_header = "家园 Jiayuan"
    site_title = "Jiayuan"

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_active and (user.is_superuser or has_role_anywhere(user, {Role.COMPANY_ADMIN}))
        )

    def login(self, request, extra_context=None):
        """The product's one sign-in page (username or mobile, throttled) instead of the
        admin's; a signed-in person without back-office access finds nothing here."""
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect("admin:index")
            raise Http404
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        return redirect_to_login(target, reverse("accounts:login"))

    def password_change(self, request, extra_context=None):
        # The product's page changes passwords through accounts.services, with an audit event.
        return redirect("accounts:password_change")


admin_site = JiayuanAdminSite(name="admin")


class RestrictedAdmin(admin.ModelAdmin):
    """Rows and permissions come from the model's access rule, not Django's model perms."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, VIEW)

    def _allowed(self, request, action, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        model = self.model
        if not model.access.staff.get(action):
            return False
        if obj is None:
            return has_role_anywhere(request.user, model.access.staff[action])
        return model._default_manager.restrict(request.user, action).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, VIEW, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, CHANGE, obj)

    def has_add_permission(self, request):
        return self._allowed(request, ADD)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, DELETE, obj)

    def has_module_permission(self, request):
        return self._allowed(request, VIEW)

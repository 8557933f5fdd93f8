"""The back office's shared admin classes, and the audit log in it.

Every admin here is a RestrictedAdmin: rows come from restrict(), so a company admin sees
their company only. Writes go through the services (which check permission, validate and
write the audit event), or the model is read-only here; nothing is deleted in the admin,
because deleting is a decision the pages make with their checks."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import VIEW
from jiayuan.core.admin_site import RestrictedAdmin, admin_site
from jiayuan.core.models import AuditCode, AuditEvent, SchedulerLease


class ScopedAdmin(RestrictedAdmin):
    """Choices in related-object drop-downs are restricted like the rows themselves."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "access"):
            kwargs["queryset"] = related._default_manager.restrict(request.user, VIEW)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OwnRowsAdmin(ReadOnlyAdmin):
    """Rows that belong to one person (API tokens, notifications). Their access rule gives no
    staff role a view of other people's rows, so the back office lists the admin's own."""

    def has_view_permission(self, request, obj=None):
        # Every admin page already requires admin_site.has_permission.
        if obj is None:
            return True
        return self.model._default_manager.restrict(request.user, VIEW).filter(pk=obj.pk).exists()

    def has_module_permission(self, request):
        return True


class ServiceAdmin(ScopedAdmin):
    """Saves through the app's service functions instead of `obj.save()`.

    Subclasses implement `update(actor, original, changes)` and, when the admin may add rows,
    `create(actor, data)` returning the new object. `original` is a fresh copy from the
    database, so the service records the true before/after. A service's ValidationError (a
    rule the form could not check) rolls the whole request back and shows as a message."""

    def has_add_permission(self, request):
        return hasattr(self, "create") and super().has_add_permission(request)

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            if changes:
                original = type(obj)._default_manager.get(pk=obj.pk)
                self.update(request.user, original, changes)
            return
        created = self.create(request.user, dict(form.cleaned_data))
        obj.pk = created.pk
        obj._state.adding = False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class AuditCodeFilter(admin.SimpleListFilter):
    title = _("event")
    parameter_name = "code"

    def lookups(self, request, model_admin):
        return AuditCode.all_choices()

    def queryset(self, request, queryset):
        return queryset.filter(code=self.value()) if self.value() else queryset


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "code_label", "target_label", "estate")
    list_filter = (AuditCodeFilter, ("estate", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("estate",)
    search_fields = ("actor_label", "target_label", "request_id")
    date_hierarchy = "at"
    fields = (
        "at",
        "actor_label",
        "code",
        "estate",
        "target_type",
        "target_id",
        "target_label",
        "before",
        "after",
        "request_id",
        "ip",
    )

    @admin.display(description=_("event"), ordering="code")
    def code_label(self, event):
        return event.code_label


@admin.register(SchedulerLease, site=admin_site)
class SchedulerLeaseAdmin(ReadOnlyAdmin):
    """Which scheduler process fires each periodic job: for the operators (superusers) who
    diagnose a job that did not run. Company admins run estates, not the platform, and the
    scheduler writes these rows itself, so nobody edits them here."""

    list_display = ("job", "holder", "lease_expires", "last_tick")
    search_fields = ("job", "holder")
    fields = list_display

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser

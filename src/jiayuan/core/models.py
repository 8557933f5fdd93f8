import functools

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import VIEW, Access, RestrictedQuerySet
from jiayuan.core.roles import MANAGERS


class AuditCode(models.TextChoices):
    """Base of every app's typed event codes (`class OrgEvent(AuditCode)` in its events.py)."""

    @classmethod
    def all_choices(cls) -> list[tuple[str, str]]:
        choices = []
        for sub in cls.__subclasses__():
            choices.extend(sub.choices)
        return sorted(choices)

    @classmethod
    def label_of(cls, code: str) -> str:
        return dict(cls.all_choices()).get(code, code)


@functools.cache
def _choice_labels(field, language) -> dict:
    return {value: str(label) for value, label in field.flatchoices}


def choice_labels(model, field_name: str) -> dict:
    """{value: label in the current language} of a choice field, made once per language."""
    return _choice_labels(model._meta.get_field(field_name), get_language())


class QuickChoiceLabels:
    """`get_<field>_display()` from a table made once per field and language. Django's own
    rebuilds the table (translating every label) on each call, which on a list of 50 rows
    with four choice columns was the page's largest cost."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        try:
            return _choice_labels(field, get_language()).get(value, value)
        except TypeError:  # an unhashable value: Django's way copes with it
            return super()._get_FIELD_display(field)


class TimeStampedModel(QuickChoiceLabels, models.Model):
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """Who did what to which object, when, from where: one row per change."""

    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    company = models.ForeignKey(
        "org.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    estate = models.ForeignKey(
        "org.Estate",
        verbose_name=_("estate"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    code = models.CharField(_("event"), max_length=64)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: MANAGERS},
        estate_path="estate_id",
        company_path="company_id",
    )

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["company", "-at"]),
            models.Index(fields=["estate", "-at"]),
            models.Index(fields=["target_type", "target_id", "-at"]),
            models.Index(fields=["code", "-at"]),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.code}"

    @property
    def code_label(self) -> str:
        return AuditCode.label_of(self.code)


class SchedulerLease(models.Model):
    """One row per periodic job: which scheduler process may fire it (until `lease_expires`)
    and the last cron tick fired, so that however many schedulers run, a tick is enqueued
    once."""

    job = models.CharField(_("job"), max_length=100, unique=True)
    holder = models.CharField(_("holder"), max_length=64, blank=True)
    lease_expires = models.DateTimeField(_("lease expires"))
    last_tick = models.DateTimeField(_("last tick fired"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    # Machinery, not business data: no role sees it, only superusers in the admin.
    access = Access()

    class Meta:
        verbose_name = _("scheduler lease")
        verbose_name_plural = _("scheduler leases")

    def __str__(self):
        return self.job


class WorkerHeartbeat(models.Model):
    """One row per running task worker (`jiayuan worker`), touched every few seconds: a task
    left running by a worker that stopped touching its row is taken back (core/workers.py)."""

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    last_seen = models.DateTimeField(_("last seen"))

    objects = RestrictedQuerySet.as_manager()
    # Machinery, not business data: no role sees it.
    access = Access()

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return self.worker_id

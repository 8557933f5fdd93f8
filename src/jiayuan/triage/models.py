"""What the triage model said about a request when it came in, and what people finally
decided: the corrections are the training rows the model learns from next
(`jiayuan triage_export`)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import VIEW, RestrictedQuerySet
from jiayuan.core.taxonomy import Category
from jiayuan.servicedesk.models import DESK_ROLES, Kind, Urgency, request_part_access


class Classification(models.Model):
    """One request's predicted labels next to its final ones. `corrected` is kept up to
    date by the services: the final labels differ from the predicted ones."""

    request = models.OneToOneField(
        "servicedesk.ServiceRequest",
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="classification",
    )
    predicted_kind = models.CharField(_("predicted kind"), max_length=12, choices=Kind.choices)
    predicted_category = models.CharField(
        _("predicted category"), max_length=32, choices=Category.choices
    )
    predicted_urgency = models.CharField(
        _("predicted urgency"), max_length=10, choices=Urgency.choices
    )
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    # "rule:<code>" per safety rule that fired, "emergency_threshold" (model.Prediction).
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    # Which model predicted: its training time and the corpus it learnt from. Both empty
    # when no model was at hand and the labels the request came in with stand in for it.
    model_trained_at = models.CharField(_("model trained at"), max_length=40, blank=True)
    model_corpus_sha256 = models.CharField(_("model corpus (SHA-256)"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    corrected = models.BooleanField(_("corrected"), default=False)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("corrected by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    corrected_at = models.DateTimeField(_("corrected at"), null=True, blank=True)
    # When the final labels were last set (at intake, or by a correction): the export's
    # --since reads it.
    labelled_at = models.DateTimeField(_("labelled at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    access = request_part_access({VIEW: DESK_ROLES})

    class Meta:
        verbose_name = _("classification")
        verbose_name_plural = _("classifications")
        ordering = ["labelled_at", "id"]
        indexes = [models.Index(fields=["corrected", "labelled_at"])]

    def __str__(self):
        return f"{self.request_id} · {self.kind}/{self.category}/{self.urgency}"

    @property
    def predicted(self) -> tuple[str, str, str]:
        return (self.predicted_kind, self.predicted_category, self.predicted_urgency)

    @property
    def final(self) -> tuple[str, str, str]:
        return (self.kind, self.category, self.urgency)

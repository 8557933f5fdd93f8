from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "jiayuan.dispatch"
    label = "dispatch"
    verbose_name = _("Dispatch")

    def ready(self):
        from jiayuan.dispatch import services
        from jiayuan.servicedesk.signals import request_waiting

        request_waiting.connect(services.on_waiting, dispatch_uid="dispatch.on_waiting")

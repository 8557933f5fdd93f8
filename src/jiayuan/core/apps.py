from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "jiayuan.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.db.backends.signals import connection_created

        from jiayuan.core.db import read_times_in_c

        connection_created.connect(read_times_in_c, dispatch_uid="jiayuan.read_times_in_c")

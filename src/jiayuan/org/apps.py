from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "jiayuan.org"
    label = "org"
    verbose_name = _("Estates and people")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from jiayuan.org.models import Company, Estate
        from jiayuan.org.selectors import forget_estates_to_switch

        for model in (Estate, Company):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_estates_to_switch, sender=model, dispatch_uid=f"switch-{model}"
                )

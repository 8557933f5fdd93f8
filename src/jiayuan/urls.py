from django.urls import include, path

from jiayuan.api import api
from jiayuan.core.admin_site import admin_site
from jiayuan.core.middleware import API_PREFIX

urlpatterns = [
    path("", include("jiayuan.core.urls")),
    path("accounts/", include("jiayuan.accounts.urls")),
    path("org/", include("jiayuan.org.urls")),
    path("notifications/", include("jiayuan.comms.urls")),
    path("service/", include("jiayuan.servicedesk.urls")),
    path("sla/", include("jiayuan.sla.urls")),
    path("dispatch/", include("jiayuan.dispatch.urls")),
    path("quality/", include("jiayuan.quality.urls")),
    path("supervision/", include("jiayuan.supervision.urls")),
    path("training/", include("jiayuan.training.urls")),
    path("dashboard/", include("jiayuan.dashboard.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin_site.urls),
    path(f"{API_PREFIX[1:]}v1/", api.urls),
]

handler404 = "jiayuan.core.views.not_found"
handler403 = "jiayuan.core.views.forbidden"

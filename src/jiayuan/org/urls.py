from jiayuan.org.urls_import import urlpatterns as import_urlpatterns
from jiayuan.org.urls_pages import urlpatterns as page_urlpatterns

app_name = "org"
urlpatterns = page_urlpatterns + import_urlpatterns

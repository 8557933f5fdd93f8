import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
application = get_wsgi_application()

# What start-up made (Django, the apps, their modules) lives as long as the process: frozen
# out of the collector's sight, a full collection walks only what requests left behind. In
# the desk queue's process such a collection had paused every thread for 180 ms. The URL
# conf is read first: it imports every view and API module (58,000 objects), which the
# first request would otherwise import after the freeze.
get_resolver().url_patterns  # noqa: B018 - read for its imports
gc.collect()
gc.freeze()

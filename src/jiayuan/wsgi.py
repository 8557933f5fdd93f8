import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
application = get_wsgi_application()

# What start-up made (Django, the apps, their modules) lives as long as the process: frozen
# out of the collector's sight, a full collection walks only what requests left behind. In
# the desk queue's process such a collection had paused every thread for 180 ms.
gc.collect()
gc.freeze()

import os

from celery import Celery

import golive_site.broker  # noqa: F401  (registers the embedded broker transport)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "golive_site.settings")

app = Celery("golive")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

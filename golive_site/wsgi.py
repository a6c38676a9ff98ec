import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "golive_site.settings")
application = get_wsgi_application()

from migrations_app.rollout import exposure  # noqa: E402  (needs the app registry loaded above)

# Each web process writes the flag APIs' exposure counts from a thread of its own (runserver and
# gunicorn both load this module; a forked worker starts its own thread on its first answer).
exposure.start_flusher()

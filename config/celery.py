"""The Celery application. With no broker configured, tasks run in-process.

Configuration, the beat schedule included, comes from Django's settings (``CELERY_*``).
Workers: ``celery -A config worker``; the scheduler, exactly one: ``celery -A config beat``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("contract_monitor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

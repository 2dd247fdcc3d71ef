"""The Celery app. Tasks live in each app's ``tasks.py`` and take ids (JSON only)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nvr.settings")

app = Celery("nvr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

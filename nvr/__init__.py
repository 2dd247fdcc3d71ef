"""Project package: settings, URLs, ASGI routing and the Celery app. No models."""

from nvr.celery import app as celery_app

__all__ = ["celery_app"]

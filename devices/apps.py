from django.apps import AppConfig


class DevicesConfig(AppConfig):
    """Cameras, device tokens, ingest and live fan-out (see issue: cameras and live view)."""

    name = "devices"
    default_auto_field = "django.db.models.BigAutoField"

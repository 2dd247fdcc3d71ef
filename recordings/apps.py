from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    """Clip upload, storage, processing, playback and retention (see issue: recordings)."""

    name = "recordings"
    default_auto_field = "django.db.models.BigAutoField"

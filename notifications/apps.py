from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Motion notifications by email and signed webhook, per person and camera (issue 15, item 6)."""

    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # recordings calls this hook once a clip with motion is READY (after commit).
        from notifications.services import clip_ready_notify_on_commit
        from recordings.extensions import on_clip_ready

        on_clip_ready(clip_ready_notify_on_commit)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Motion notifications by email and signed webhook, per person and camera (issue 15, item 6)."""

    name = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # recordings calls this hook once a clip with motion is READY (after commit).
        from notifications.services import clip_ready_notify_on_commit
        from recordings.extensions import on_clip_ready

        on_clip_ready(clip_ready_notify_on_commit)

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    """Cameras, device tokens, ingest and live fan-out (see issue: cameras and live view)."""

    name = "devices"
    verbose_name = _("Cameras")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.visibility import register_visible_objects

        # The access history shows a limited member only events about their cameras.
        register_visible_objects("camera", _visible_cameras)


def _visible_cameras(membership: Any) -> Any:
    from devices.selectors import granted_camera_ids  # imports models: not at app loading

    return granted_camera_ids(membership=membership)

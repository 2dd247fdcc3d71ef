from typing import Any, cast

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordingsConfig(AppConfig):
    """Clip upload, storage, processing, playback and retention (see issue: recordings)."""

    name = "recordings"
    verbose_name = _("Recordings")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_ready

        worker_ready.connect(remove_stale_processing_folders, dispatch_uid="recordings.remove_stale_processing_folders")

        from accounts.visibility import register_visible_objects

        # The access history shows a limited member only events about their cameras' clips.
        register_visible_objects("recording", _visible_recordings)

        # A camera's recording settings and clips are ours; devices calls these hooks.
        from devices.extensions import on_camera_created, on_camera_deleting, register_camera_settings
        from recordings.camera_settings import CONTRIBUTION, settings_create
        from recordings.services import camera_recordings_purge_on_commit

        register_camera_settings(CONTRIBUTION)
        on_camera_created(settings_create)
        on_camera_deleting(camera_recordings_purge_on_commit)

        # Pull cameras: the ingest worker reads them, we record them.
        from devices.extensions import register_pull_recorder
        from recordings.recorder.pull import PullCameraRecorder

        register_pull_recorder(PullCameraRecorder())

        # Push cameras upload their clips here: their token page shows the address.
        from devices.extensions import DeviceEndpoint, register_device_endpoint

        register_device_endpoint(
            DeviceEndpoint(
                key="upload",
                # Lazy: read when the token page renders, in its reader's language
                # (DeviceEndpoint declares str; a lazy string renders as one).
                label=cast(str, _("Clip upload address")),
                route="recordings-upload:upload-create",
                help=cast(str, _("Where it uploads recorded clips (resumable uploads, tus).")),
            )
        )


def _visible_recordings(membership: Any) -> Any:
    from devices.selectors import filter_visible_cameras  # imports models: not at app loading
    from recordings.models import Recording

    return filter_visible_cameras(Recording.objects.all(), viewer=membership).values("pk")


def remove_stale_processing_folders(**kwargs: Any) -> None:
    """On worker start: a worker killed mid-task (SIGKILL skips ``finally``) left a decrypted clip behind.

    Only folders older than the task's hard time limit go: this worker's siblings
    on the same host may already be processing.
    """
    from recordings.processing import remove_stale_folders  # imports models: not at app loading

    remove_stale_folders()

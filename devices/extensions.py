"""What apps built on devices attach to a camera, without devices importing them.

``recordings`` keeps each camera's recording settings (retention, motion tuning)
and its clips, and serves the address push cameras upload clips to. devices shows
and changes those settings on the camera's page and in its API, shows that address
on a push camera's token page, and tells recordings when a camera is created or
deleted, through the hooks registered here from the other app's ``AppConfig.ready()``. The
dependency stays one way: accounts <- devices <- recordings.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django import forms
from django.utils.safestring import SafeString
from rest_framework import serializers

from devices.models import Camera


@dataclass(frozen=True)
class SettingsSummary:
    css_class: str
    html: SafeString  # built with format_html: values escaped


@dataclass(frozen=True)
class CameraSettings:
    """Settings another app keeps per camera, shown and changed with the camera's own.

    ``form_fields``/``api_fields`` make fresh (unbound) fields, all optional
    (``api_fields(True)``: read-only ones with their ``source`` on the camera);
    ``values`` reads the camera's current ones (inside its household's scope);
    ``summary`` says them in a sentence for the camera's edit page;
    ``save`` checks and writes the given ones, raising ``ValidationError``
    keyed by field name; ``related`` is the camera's relation that holds them
    (for ``select_related`` in lists); ``names`` are the fields', the same in forms and API.
    """

    summary: Callable[[Camera], "SettingsSummary"]
    form_fields: Callable[[], dict[str, forms.Field]]
    api_fields: Callable[[bool], dict[str, serializers.Field[Any, Any, Any, Any]]]
    values: Callable[[Camera], dict[str, Any]]
    save: Callable[[Camera, dict[str, Any]], None]
    related: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class RecordPlan:
    """How a pull camera is recorded (``PullRecorder.plan``): continuously or on motion,
    in files of about ``seconds``, with the motion tuning the reader's child uses."""

    mode: str  # "continuous" or "motion"
    seconds: float
    pre_roll: float
    post_roll: float
    sensitivity: float
    min_area_percent: float


class PullRecorder(Protocol):
    """What the ingest worker needs from the app that records pull cameras.

    The worker reads each camera once, for live view and recording both: it holds the
    camera's lease while it reads (``claim`` before connecting, ``renew`` every third of
    ``lease_seconds``, stopping at once when a renewal fails, ``release`` when it stops),
    asks how to record it (``plan``; None: not recorded), and hands each closed file to
    ``store``. Each method opens the camera's household scope itself.
    """

    @property
    def lease_seconds(self) -> float: ...

    def plan(self, camera_id: uuid.UUID, account_id: uuid.UUID) -> RecordPlan | None: ...

    def claim(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> bool: ...

    def renew(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> bool: ...

    def release(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> None: ...

    def store(
        self, camera_id: uuid.UUID, account_id: uuid.UUID, path: Path, started_at: datetime, ended_at: datetime
    ) -> None: ...


@dataclass(frozen=True)
class DeviceEndpoint:
    """An HTTP address a push camera uses, served by another app: a push camera's token
    page shows it (absolute, with a copy button) beside the device socket's."""

    key: str  # names it on the page (``data-testid="endpoint-<key>"``)
    label: str
    route: str  # its URL name
    help: str = ""


_settings: list[CameraSettings] = []
_endpoints: dict[str, DeviceEndpoint] = {}
_recorder: list[PullRecorder] = []
_created: list[Callable[[Camera], None]] = []
_deleting: list[Callable[[Camera], None]] = []


def register_camera_settings(settings: CameraSettings) -> None:
    _settings.append(settings)


def register_pull_recorder(recorder: PullRecorder) -> None:
    """The one recorder of pull cameras (a second registration replaces the first)."""
    _recorder[:] = [recorder]


def pull_recorder() -> PullRecorder | None:
    return _recorder[0] if _recorder else None


def register_device_endpoint(endpoint: DeviceEndpoint) -> None:
    _endpoints[endpoint.key] = endpoint


def device_endpoints() -> list[DeviceEndpoint]:
    return list(_endpoints.values())


def on_camera_created(hook: Callable[[Camera], None]) -> None:
    """``hook(camera)`` runs in the creating transaction, after the camera's row exists."""
    _created.append(hook)


def on_camera_deleting(hook: Callable[[Camera], None]) -> None:
    """``hook(camera)`` runs in the deleting transaction, before the camera's row goes."""
    _deleting.append(hook)


def camera_settings() -> list[CameraSettings]:
    return list(_settings)


def settings_form_fields() -> dict[str, forms.Field]:
    return {name: field for entry in _settings for name, field in entry.form_fields().items()}


def settings_api_fields(*, reading: bool) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    return {name: field for entry in _settings for name, field in entry.api_fields(reading).items()}


def settings_values(camera: Camera) -> dict[str, Any]:
    return {name: value for entry in _settings for name, value in entry.values(camera).items()}


def settings_summaries(camera: Camera) -> list[SettingsSummary]:
    return [entry.summary(camera) for entry in _settings]


def settings_related() -> list[str]:
    return [entry.related for entry in _settings]


def settings_save(camera: Camera, values: dict[str, Any]) -> None:
    """Hand each app the values of its own fields (those given; None or "" means unchanged)."""
    for entry in _settings:
        mine = {name: value for name, value in values.items() if name in entry.names and value not in (None, "")}
        if mine:
            entry.save(camera, mine)


def camera_created(camera: Camera) -> None:
    for hook in _created:
        hook(camera)


def camera_deleting(camera: Camera) -> None:
    for hook in _deleting:
        hook(camera)

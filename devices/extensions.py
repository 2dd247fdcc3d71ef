"""What apps built on devices attach to a camera, without devices importing them.

``recordings`` keeps each camera's recording settings (retention, motion tuning)
and its clips. devices shows and changes those settings on the camera's page and
in its API, and tells recordings when a camera is created or deleted, through
the hooks registered here from the other app's ``AppConfig.ready()``. The
dependency stays one way: accounts <- devices <- recordings.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


_settings: list[CameraSettings] = []
_created: list[Callable[[Camera], None]] = []
_deleting: list[Callable[[Camera], None]] = []


def register_camera_settings(settings: CameraSettings) -> None:
    _settings.append(settings)


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

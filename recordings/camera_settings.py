"""A camera's recording settings, contributed to the camera's page and API.

Registered with ``devices.extensions`` from ``RecordingsConfig.ready()``; devices
shows and saves them without importing recordings. Every camera gets its row when
it is created (``settings_create``), so reads never need a fallback.
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from rest_framework import serializers

from devices.extensions import CameraSettings, SettingsSummary
from devices.models import Camera
from recordings.models import (
    MOTION_MIN_AREA_PERCENT_RANGE,
    MOTION_SENSITIVITY_RANGE,
    RETENTION_DAYS_RANGE,
    CameraRecordingSettings,
)

FIELDS = ("retention_days", "motion_sensitivity", "motion_min_area_percent")


def settings_create(camera: Camera) -> None:
    CameraRecordingSettings.objects.create(camera=camera, account_id=camera.account_id)


def _form_fields() -> dict[str, forms.Field]:
    return {
        "retention_days": forms.IntegerField(
            label="Keep recordings for (days)",
            required=False,
            min_value=RETENTION_DAYS_RANGE[0],
            max_value=RETENTION_DAYS_RANGE[1],
            help_text="Older clips are deleted automatically (1 to 3650 days).",
        ),
        "motion_sensitivity": forms.FloatField(
            label="Motion sensitivity",
            required=False,
            min_value=MOTION_SENSITIVITY_RANGE[0],
            max_value=MOTION_SENSITIVITY_RANGE[1],
            help_text="0 to 1: higher finds fainter changes (and more false alarms).",
        ),
        "motion_min_area_percent": forms.FloatField(
            label="Minimum changed area (%)",
            required=False,
            min_value=MOTION_MIN_AREA_PERCENT_RANGE[0],
            max_value=MOTION_MIN_AREA_PERCENT_RANGE[1],
            help_text="How much of the picture must change to count as motion (0.01 to 50 %).",
        ),
    }


def _api_fields(reading: bool) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    """Writable and optional, or (``reading``) read-only from the camera's settings row."""

    def options(name: str) -> dict[str, Any]:
        return {"read_only": True, "source": f"recording_settings.{name}"} if reading else {"required": False}

    return {
        "retention_days": serializers.IntegerField(
            min_value=RETENTION_DAYS_RANGE[0], max_value=RETENTION_DAYS_RANGE[1], **options("retention_days")
        ),
        "motion_sensitivity": serializers.FloatField(
            min_value=MOTION_SENSITIVITY_RANGE[0],
            max_value=MOTION_SENSITIVITY_RANGE[1],
            **options("motion_sensitivity"),
        ),
        "motion_min_area_percent": serializers.FloatField(
            min_value=MOTION_MIN_AREA_PERCENT_RANGE[0],
            max_value=MOTION_MIN_AREA_PERCENT_RANGE[1],
            **options("motion_min_area_percent"),
        ),
    }


def _values(camera: Camera) -> dict[str, Any]:
    row = camera.recording_settings
    return {name: getattr(row, name) for name in FIELDS}


def _summary(camera: Camera) -> SettingsSummary:
    row = camera.recording_settings
    days = row.retention_days
    html = format_html(
        "Recordings are kept <strong>{} day{}</strong>; motion sensitivity <strong>{}</strong>, "
        "at least <strong>{} %</strong> of the picture changing.",
        days,
        "" if days == 1 else "s",
        floatformat(row.motion_sensitivity, "-2"),
        floatformat(row.motion_min_area_percent, "-2"),
    )
    return SettingsSummary(css_class="recording-settings", html=html)


def settings_save(camera: Camera, values: dict[str, Any]) -> None:
    """Range-checked (the forms and API check too; this is the rule for every caller).
    Written as "not lo <= x <= hi" so that NaN, which every comparison refuses, is refused too."""
    errors: dict[str, str] = {}
    retention, sensitivity, area = (values.get(name) for name in FIELDS)
    low, high = RETENTION_DAYS_RANGE
    if retention is not None and not low <= retention <= high:
        errors["retention_days"] = f"Keep recordings between {low} and {high} days."
    low, high = MOTION_SENSITIVITY_RANGE
    if sensitivity is not None and not low <= sensitivity <= high:
        errors["motion_sensitivity"] = f"Motion sensitivity is between {low} and {high}."
    low_area, high_area = MOTION_MIN_AREA_PERCENT_RANGE
    if area is not None and not low_area <= area <= high_area:
        errors["motion_min_area_percent"] = f"The minimum changed area is between {low_area} and {high_area} percent."
    if errors:
        raise ValidationError(errors)
    row = CameraRecordingSettings.objects.select_for_update().get(camera=camera)
    for name in FIELDS:
        if values.get(name) is not None:
            setattr(row, name, values[name])
    row.save()
    camera.recording_settings = row  # what the caller shows next


CONTRIBUTION = CameraSettings(
    summary=_summary,
    form_fields=_form_fields,
    api_fields=_api_fields,
    values=_values,
    save=settings_save,
    related="recording_settings",
)

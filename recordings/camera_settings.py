"""A camera's recording settings, contributed to the camera's page and API.

Registered with ``devices.extensions`` from ``RecordingsConfig.ready()``; devices
shows and saves them without importing recordings. Every camera gets its row when
it is created (``settings_create``), so reads never need a fallback.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_stubs_ext import StrOrPromise
from rest_framework import serializers

from devices.extensions import CameraSettings, SettingsSummary
from devices.models import Camera, CameraKind
from recordings.models import (
    MOTION_MIN_AREA_PERCENT_RANGE,
    MOTION_SENSITIVITY_RANGE,
    POST_ROLL_SECONDS_RANGE,
    PRE_ROLL_SECONDS_RANGE,
    RETENTION_DAYS_RANGE,
    SEGMENT_SECONDS_RANGE,
    CameraRecordingSettings,
    RecordMode,
)


@dataclass(frozen=True)
class _Setting:
    """One setting, declared once: its form field, API field and range check follow."""

    name: str
    number: type[int] | type[float] | type[str]  # str: one of ``choices``
    bounds: tuple[float, float] | list[tuple[str, StrOrPromise]]  # a range, or the choices
    label: StrOrPromise  # translated when shown (gettext_lazy)
    help_text: StrOrPromise
    out_of_range: StrOrPromise  # with {low} and {high}, or {choices}

    def form_field(self) -> forms.Field:
        if isinstance(self.bounds, list):
            return forms.ChoiceField(label=self.label, required=False, choices=self.bounds, help_text=self.help_text)
        kind = forms.IntegerField if self.number is int else forms.FloatField
        return kind(label=self.label, required=False, help_text=self.help_text, **self._limits())

    def api_field(self, reading: bool) -> serializers.Field[Any, Any, Any, Any]:
        # Writable and optional, or (reading) read-only from the camera's settings row.
        options: dict[str, Any] = (
            {"read_only": True, "source": f"recording_settings.{self.name}"} if reading else {"required": False}
        )
        if isinstance(self.bounds, list):
            return serializers.ChoiceField(choices=[value for value, _label in self.bounds], **options)
        kind = serializers.IntegerField if self.number is int else serializers.FloatField
        return kind(**self._limits(), **options)

    def _limits(self) -> dict[str, Any]:  # int bounds for an int field, float for a float one
        assert isinstance(self.bounds, tuple)
        low, high = self.bounds
        return {"min_value": self.number(low), "max_value": self.number(high)}

    def problem(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(self.bounds, list):
            values = [choice for choice, _label in self.bounds]
            return None if value in values else str(self.out_of_range).format(choices=", ".join(values))
        # "not low <= x <= high": NaN, which every comparison refuses, is refused too.
        low, high = self.bounds
        return None if low <= value <= high else str(self.out_of_range).format(low=low, high=high)


SETTINGS = (
    _Setting(
        "retention_days",
        int,
        RETENTION_DAYS_RANGE,
        gettext_lazy("Keep recordings for (days)"),
        gettext_lazy("Older clips are deleted automatically (1 to 3650 days)."),
        gettext_lazy("Keep recordings between {low} and {high} days."),
    ),
    _Setting(
        "motion_sensitivity",
        float,
        MOTION_SENSITIVITY_RANGE,
        gettext_lazy("Motion sensitivity"),
        gettext_lazy("0 to 1: higher finds fainter changes (and more false alarms)."),
        gettext_lazy("Motion sensitivity is between {low} and {high}."),
    ),
    _Setting(
        "motion_min_area_percent",
        float,
        MOTION_MIN_AREA_PERCENT_RANGE,
        gettext_lazy("Minimum changed area (%)"),
        gettext_lazy("How much of the picture must change to count as motion (0.01 to 50 %)."),
        gettext_lazy("The minimum changed area is between {low} and {high} percent."),
    ),
    _Setting(
        "record_mode",
        str,
        list(RecordMode.choices),
        gettext_lazy("Record"),
        gettext_lazy("For cameras the site reads (RTSP): on motion, continuously or never."),
        gettext_lazy("Record is one of: {choices}."),
    ),
    _Setting(
        "segment_seconds",
        int,
        SEGMENT_SECONDS_RANGE,
        gettext_lazy("Clip length (seconds)"),
        gettext_lazy("Recordings are cut into clips of about this length (10 to 600 s)."),
        gettext_lazy("Clips last between {low} and {high} seconds."),
    ),
    _Setting(
        "pre_roll_s",
        float,
        PRE_ROLL_SECONDS_RANGE,
        gettext_lazy("Before motion (seconds)"),
        gettext_lazy("How much to keep from before motion starts (0 to 30 s)."),
        gettext_lazy("Keep between {low} and {high} seconds before motion."),
    ),
    _Setting(
        "post_roll_s",
        float,
        POST_ROLL_SECONDS_RANGE,
        gettext_lazy("After motion (seconds)"),
        gettext_lazy("How long to go on recording once motion stops (0 to 120 s)."),
        gettext_lazy("Keep between {low} and {high} seconds after motion."),
    ),
)
FIELDS = tuple(setting.name for setting in SETTINGS)


def settings_create(camera: Camera) -> None:
    CameraRecordingSettings.objects.create(camera=camera, account_id=camera.account_id)


def _form_fields() -> dict[str, forms.Field]:
    return {setting.name: setting.form_field() for setting in SETTINGS}


def _api_fields(reading: bool) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    return {setting.name: setting.api_field(reading) for setting in SETTINGS}


def _values(camera: Camera) -> dict[str, Any]:
    row = camera.recording_settings
    return {name: getattr(row, name) for name in FIELDS}


def _summary(camera: Camera) -> SettingsSummary:
    row = camera.recording_settings
    days = row.retention_days
    html = format_html(
        ngettext(
            "Recordings are kept <strong>{days} day</strong>; motion sensitivity <strong>{sensitivity}</strong>, "
            "at least <strong>{area} %</strong> of the picture changing.",
            "Recordings are kept <strong>{days} days</strong>; motion sensitivity <strong>{sensitivity}</strong>, "
            "at least <strong>{area} %</strong> of the picture changing.",
            days,
        ),
        days=days,
        sensitivity=floatformat(row.motion_sensitivity, "-2"),
        area=floatformat(row.motion_min_area_percent, "-2"),
    )
    if camera.kind == CameraKind.PULL:
        html = format_html("{}{}", html, _recording_sentence(row))
    return SettingsSummary(css_class="recording-settings", html=html)


def _recording_sentence(row: CameraRecordingSettings) -> SafeString:
    if row.record_mode == RecordMode.OFF:
        # Catalogue text with markup and no values: nothing of the household's to escape.
        return mark_safe(" " + _("It is <strong>not recorded</strong>."))  # noqa: S308
    if row.record_mode == RecordMode.CONTINUOUS:
        return format_html(
            " " + _("It is recorded <strong>continuously</strong>, in clips of about {seconds} s."),
            seconds=row.segment_seconds,
        )
    return format_html(
        " "
        + _(
            "It is recorded <strong>on motion</strong>, from {before} s before to {after} s after, "
            "in clips of at most about {seconds} s."
        ),
        before=floatformat(row.pre_roll_s, "-1"),
        after=floatformat(row.post_roll_s, "-1"),
        seconds=row.segment_seconds,
    )


def settings_save(camera: Camera, values: dict[str, Any]) -> None:
    """Range-checked (the forms and API check too; this is the rule for every caller)."""
    errors = {setting.name: problem for setting in SETTINGS if (problem := setting.problem(values.get(setting.name)))}
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
    names=FIELDS,
)

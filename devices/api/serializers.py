"""Shapes only: camera rules live in devices/services.py."""

from typing import Any

from rest_framework import serializers

from devices.extensions import settings_api_fields
from devices.models import Camera, CameraKind


class CameraSerializer(serializers.ModelSerializer[Camera]):
    has_source_url = serializers.SerializerMethodField()

    class Meta:
        model = Camera
        fields = (
            "id",
            "name",
            "kind",
            "enabled",
            "status",
            "status_message",
            "last_seen_at",
            "live_fps",
            "created_at",
            "has_source_url",
        )

    def get_fields(self) -> dict[str, Any]:
        # Other apps' settings of the camera (retention, motion tuning), read-only here.
        fields = super().get_fields()
        fields.update(settings_api_fields(reading=True))
        return fields

    def get_has_source_url(self, camera: Camera) -> bool:
        """Whether a pull address is set. The address itself is never returned."""
        return bool(camera.source_url_encrypted)


class CameraCreateSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=CameraKind.choices, default=CameraKind.PUSH)
    source_url = serializers.CharField(max_length=2000, required=False, allow_blank=True, write_only=True)


class CameraUpdateSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=100, required=False)
    enabled = serializers.BooleanField(required=False)
    source_url = serializers.CharField(max_length=2000, required=False, write_only=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields.update(settings_api_fields(reading=False))  # retention and motion tuning (recordings')
        return fields


class TokenSerializer(serializers.Serializer[None]):
    token = serializers.CharField(help_text="Shown once; only a hash is kept.")


class HeartbeatSerializer(serializers.Serializer[None]):
    camera = CameraSerializer()
    server_time = serializers.DateTimeField()

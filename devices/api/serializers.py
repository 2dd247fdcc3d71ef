"""Shapes only: camera rules live in devices/services.py."""

from rest_framework import serializers

from devices.models import (
    MOTION_MIN_AREA_PERCENT_RANGE,
    MOTION_SENSITIVITY_RANGE,
    RETENTION_DAYS_RANGE,
    Camera,
    CameraKind,
)


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
            "retention_days",
            "motion_sensitivity",
            "motion_min_area_percent",
        )

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
    retention_days = serializers.IntegerField(
        min_value=RETENTION_DAYS_RANGE[0], max_value=RETENTION_DAYS_RANGE[1], required=False
    )
    motion_sensitivity = serializers.FloatField(
        min_value=MOTION_SENSITIVITY_RANGE[0], max_value=MOTION_SENSITIVITY_RANGE[1], required=False
    )
    motion_min_area_percent = serializers.FloatField(
        min_value=MOTION_MIN_AREA_PERCENT_RANGE[0], max_value=MOTION_MIN_AREA_PERCENT_RANGE[1], required=False
    )


class TokenSerializer(serializers.Serializer[None]):
    token = serializers.CharField(help_text="Shown once; only a hash is kept.")


class HeartbeatSerializer(serializers.Serializer[None]):
    camera = CameraSerializer()
    server_time = serializers.DateTimeField()

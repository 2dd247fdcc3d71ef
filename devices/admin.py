"""Support admin for cameras: metadata only. No stream address, no token hash,
no picture: support never sees a household's video here."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from devices.models import Camera, DeviceToken, LiveSession


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Camera)
class CameraAdmin(ReadOnlyAdmin):
    list_display = ("name", "account", "kind", "enabled", "status", "last_seen_at", "live_fps")
    list_filter = ("kind", "enabled", "status")
    search_fields = ("name", "account__name", "id")
    list_select_related = ("account",)
    exclude = ("source_url_encrypted",)


@admin.register(DeviceToken)
class DeviceTokenAdmin(ReadOnlyAdmin):
    list_display = ("id", "camera", "account", "created_at", "revoked_at", "last_used_at")
    list_select_related = ("camera", "account")
    exclude = ("secret_hash",)


@admin.register(LiveSession)
class LiveSessionAdmin(ReadOnlyAdmin):
    list_display = ("camera", "user", "account", "started_at", "seen_at")
    list_select_related = ("camera", "user", "account")

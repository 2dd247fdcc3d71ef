"""Support admin for cameras: metadata only. No stream address, no token hash,
no picture: support never sees a household's video here. The site makes every
registration read-only (``accounts.admin_site``); the only writes are the support
actions below, each audited and emailed to the household's owners."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts.admin_site import support_action
from accounts.models import User
from accounts.tenancy import account_scope
from devices.models import Camera, DeviceToken, LiveSession
from devices.services import camera_disable_by_support, token_revoke_by_support


def _staff(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin[Camera]):
    list_display = ("name", "account", "kind", "enabled", "status", "last_seen_at", "live_fps")
    list_filter = ("kind", "enabled", "status")
    search_fields = ("name", "account__name", "id")
    list_select_related = ("account",)
    exclude = ("source_url_encrypted",)
    actions = ("disable", "revoke_token")

    @support_action(description="Disable the selected cameras")
    def disable(self, request: HttpRequest, queryset: QuerySet[Camera]) -> None:
        disabled = 0
        for camera in queryset:
            with account_scope(camera.account_id):  # the admin runs unscoped; the service in one household
                disabled += camera_disable_by_support(staff=_staff(request), camera=camera)
        text = ngettext(
            "Disabled %(count)d camera; its household's owners were emailed.",
            "Disabled %(count)d cameras; their households' owners were emailed.",
            disabled,
        )
        messages.success(request, text % {"count": disabled})

    @support_action(description="Revoke the selected cameras' device tokens")
    def revoke_token(self, request: HttpRequest, queryset: QuerySet[Camera]) -> None:
        revoked = 0
        for camera in queryset:
            try:
                with account_scope(camera.account_id):
                    revoked += token_revoke_by_support(staff=_staff(request), camera=camera)
            except ValidationError as error:
                messages.warning(request, f"{camera.name}: {' '.join(error.messages)}")
        text = ngettext(
            "Revoked %(count)d token; the household's owners were emailed.",
            "Revoked %(count)d tokens; the households' owners were emailed.",
            revoked,
        )
        messages.success(request, text % {"count": revoked})


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin[DeviceToken]):
    list_display = ("id", "camera", "account", "created_at", "revoked_at", "last_used_at")
    list_select_related = ("camera", "account")
    exclude = ("secret_hash",)


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin[LiveSession]):
    list_display = ("camera", "user", "account", "started_at", "seen_at")
    list_select_related = ("camera", "user", "account")

from django.urls import path

from devices.views import access, cameras

app_name = "devices"

urlpatterns = [
    path("", cameras.live_grid, name="grid"),
    path("add/", cameras.camera_add, name="camera-add"),
    path("add/test/", cameras.camera_test_view, name="camera-test"),
    path("access/<uuid:membership_id>/", access.camera_access, name="camera-access"),
    path("<uuid:camera_id>/", cameras.camera_detail, name="camera"),
    path("<uuid:camera_id>/status/", cameras.camera_status, name="camera-status"),
    path("<uuid:camera_id>/snapshot/", cameras.camera_snapshot, name="camera-snapshot"),
    path("<uuid:camera_id>/edit/", cameras.camera_edit, name="camera-edit"),
    path("<uuid:camera_id>/delete/", cameras.camera_delete_view, name="camera-delete"),
    path("<uuid:camera_id>/token/", cameras.camera_token_rotate, name="camera-token-rotate"),
    path("<uuid:camera_id>/token/revoke/", cameras.camera_token_revoke, name="camera-token-revoke"),
]

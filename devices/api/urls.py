from django.urls import path
from rest_framework.routers import SimpleRouter

from devices.api import access, views

app_name = "devices-api"

router = SimpleRouter(use_regex_path=False)
router.register("cameras", views.CameraViewSet, basename="camera")

urlpatterns = [
    path("device/heartbeat/", views.DeviceHeartbeatView.as_view(), name="device-heartbeat"),
    path("camera-access/<uuid:membership_id>/", access.CameraAccessView.as_view(), name="camera-access"),
    *router.urls,
]

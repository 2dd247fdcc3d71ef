"""The household's grant pages (``support-grants``) and the staff viewer (``support``)."""

from django.urls import include, path

from support.views import grants, viewer

household_patterns = (
    [
        path("", grants.grants, name="list"),
        path("<uuid:grant_id>/end/", grants.grant_end_view, name="end"),
    ],
    "support-grants",
)

viewer_patterns = (
    [
        path("", viewer.grants, name="grants"),
        path("<uuid:grant_id>/", viewer.grant, name="grant"),
        path("<uuid:grant_id>/cameras/<uuid:camera_id>/live/", viewer.live, name="live"),
        path("<uuid:grant_id>/clips/<uuid:recording_id>/", viewer.clip, name="clip"),
        path("<uuid:grant_id>/clips/<uuid:recording_id>/video.mp4", viewer.clip_video, name="clip-video"),
        path("<uuid:grant_id>/clips/<uuid:recording_id>/thumbnail.jpg", viewer.clip_thumbnail, name="clip-thumbnail"),
    ],
    "support",
)

urlpatterns = [
    path("household/support/", include(household_patterns)),
    path("support-viewer/", include(viewer_patterns)),
]

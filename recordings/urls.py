"""Portal pages of recordings: timeline, player, the clip's video, thumbnail and download."""

from django.urls import path

from recordings.views import events, pages, playback, sharing, storage

app_name = "recordings"

urlpatterns = [
    path("", pages.timeline, name="timeline"),
    path("storage/", storage.storage, name="storage"),
    path("events/", events.events, name="events"),
    path("<uuid:recording_id>/", pages.clip, name="clip"),
    path("<uuid:recording_id>/video.mp4", playback.clip_video, name="clip-video"),
    path("<uuid:recording_id>/thumbnail.jpg", playback.clip_thumbnail, name="clip-thumbnail"),
    path("<uuid:recording_id>/download", playback.clip_download, name="clip-download"),
    path("<uuid:recording_id>/delete/", pages.clip_delete, name="clip-delete"),
    path("<uuid:recording_id>/share/", sharing.clip_share, name="clip-share"),
    path("shared/", sharing.shares, name="shares"),
    path("shared/<uuid:link_id>/revoke/", sharing.share_revoke, name="share-revoke"),
]

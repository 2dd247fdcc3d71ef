"""The public addresses of share links (``/s/<secret>/``): no session, the secret is the identity."""

from django.urls import path

from recordings.views import shared

app_name = "shared"

urlpatterns = [
    path("<str:token>/", shared.page, name="page"),
    path("<str:token>/video.mp4", shared.video, name="video"),
    path("<str:token>/thumbnail.jpg", shared.thumbnail, name="thumbnail"),
]

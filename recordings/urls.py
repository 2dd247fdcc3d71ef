"""Portal pages of recordings: timeline, player, the clip's video, thumbnail and download."""

from django.urls import path

app_name = "recordings"

urlpatterns: list = []

"""The household's recordings API (session authentication, the active household)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from recordings.api import views

app_name = "recordings-api"

router = SimpleRouter(use_regex_path=False)
router.register("recordings", views.RecordingViewSet, basename="recording")

urlpatterns = [
    path("storage/", views.StorageView.as_view(), name="storage"),
    path("events/", views.EventListView.as_view(), name="event-list"),
    *router.urls,
]

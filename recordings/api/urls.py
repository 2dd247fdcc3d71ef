"""The household's recordings API (session authentication, the active household)."""

from rest_framework.routers import SimpleRouter

from recordings.api import views

app_name = "recordings-api"

router = SimpleRouter(use_regex_path=False)
router.register("recordings", views.RecordingViewSet, basename="recording")

urlpatterns = [*router.urls]

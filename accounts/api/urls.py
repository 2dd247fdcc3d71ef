from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("members", views.MembershipViewSet, basename="member")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("access-events", views.AccessEventViewSet, basename="accessevent")

urlpatterns = [
    path("household/", views.HouseholdView.as_view(), name="household"),
    *router.urls,
]

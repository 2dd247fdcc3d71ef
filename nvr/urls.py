"""URL configuration. Every route joins the isolation matrix the day it is added."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from nvr.views import api_docs_view

urlpatterns = [
    path("", include("accounts.urls")),
    path("cameras/", include("devices.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("devices.api.urls")),
    path("api/v1/", include("recordings.api.urls")),
    path("api/v1/", include("recordings.upload.urls")),
    path("recordings/", include("recordings.urls")),
    # Both for signed-in people only (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"], api_docs_view).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs_view("api-schema"), name="api-docs"),
    path("support/", admin.site.urls),
]

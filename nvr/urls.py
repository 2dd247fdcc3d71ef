"""URL configuration. Every route joins the isolation matrix the day it is added."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("accounts.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("support/", admin.site.urls),
]

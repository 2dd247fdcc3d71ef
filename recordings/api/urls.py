"""The household's recordings API (session or the API's authentication)."""

from django.urls import path

app_name = "recordings-api"

urlpatterns: list = []

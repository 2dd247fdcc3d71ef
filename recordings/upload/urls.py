"""Clip uploads from cameras (device token only): the tus resumable upload protocol."""

from django.urls import path

app_name = "recordings-upload"

urlpatterns: list = []

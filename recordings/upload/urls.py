"""Clip uploads from cameras (device token only): the tus resumable upload protocol."""

from django.urls import path

from recordings.upload import views

app_name = "recordings-upload"

urlpatterns = [
    path("device/uploads/", views.UploadCreateView.as_view(), name="upload-create"),
    path("device/uploads/<uuid:upload_id>/", views.UploadView.as_view(), name="upload"),
]

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_settings, name="settings"),
    path("test/", views.notification_test, name="test"),
    path("secret/", views.webhook_secret_new, name="secret"),
]

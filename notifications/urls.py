from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_settings, name="settings"),
    path("test/", views.notification_test, name="test"),
    path("secret/", views.webhook_secret_new, name="secret"),
    # Web Push: this browser subscribes (the page's script); one of the person's browsers is turned off.
    path("push/", views.push_subscription_add, name="push-subscribe"),
    path("push/<uuid:subscription_id>/remove/", views.push_subscription_remove, name="push-remove"),
]

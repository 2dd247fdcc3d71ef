"""URL configuration. Every route joins the isolation matrix the day it is added."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from notifications import views as notification_views
from nvr.views import api_docs_view, totp_activate_view

# A body found too large while reading it is a 413, not Django's 400 (nvr/limits.py).
handler400 = "nvr.limits.bad_request"

urlpatterns = [
    path("", include("accounts.urls")),
    # Sign-in, sign-up, password reset, email change, second factor, sessions (django-allauth).
    # (Not allauth.urls: it adds its own sessions page; ours is accounts:sessions.)
    # allauth's own view, with data: images allowed for the QR code it draws inline.
    path("account/2fa/totp/activate/", totp_activate_view, name="mfa_activate_totp"),
    path("account/", include("allauth.account.urls")),
    path("account/2fa/", include("allauth.mfa.urls")),
    path("cameras/", include("devices.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("devices.api.urls")),
    path("api/v1/", include("recordings.api.urls")),
    path("api/v1/", include("recordings.upload.urls")),
    path("recordings/", include("recordings.urls")),
    # Each person's own motion notifications (email, signed webhook).
    path("notifications/", include("notifications.urls")),
    # The Web Push service worker: at the root, so that it may show notifications for every page.
    path("sw.js", notification_views.service_worker, name="service-worker"),
    # Share links: one clip for whoever holds the link's secret (no session).
    path("s/", include("recordings.shared_urls")),
    # Households' grants to support, and what support sees under them (never the admin).
    path("", include("support.urls")),
    # Both for signed-in people only (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"], api_docs_view).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs_view("api-schema"), name="api-docs"),
    path("support/", admin.site.urls),
    # The words the pages' scripts show, in the person's language (locale/*/djangojs.po).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

# 503 (retry) instead of 500 when the database connection failed: nvr/errors.py.
handler500 = "nvr.errors.server_error"

"""The support site (Django admin).

Support staff see households' *metadata* across all households, so every admin
view runs inside ``unscoped()`` with the staff member and path as its reason.
No ModelAdmin exposes video, thumbnails or live feeds
(``accounts/tests/test_admin.py`` checks the registry).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from accounts.tenancy import unscoped

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class SupportAdminSite(admin.AdminSite):
    site_header = "NVR support"
    site_title = "NVR support"
    index_title = "Households, people and devices (metadata only)"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Staff sign in through the site's own sign-in (allauth: the second factor, the
        per-address limits, the new-browser notice), never through a password-only form."""
        view = secure_admin_login(super().login)
        return cast(HttpResponse, view(request, extra_context))

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        protected = super().admin_view(view, cacheable)

        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not self.has_permission(request):
                return protected(request, *args, **kwargs)  # redirects to the admin login
            reason = f"support admin: {request.user} {request.method} {request.path}"
            with unscoped(reason):
                response = protected(request, *args, **kwargs)
                # Render inside the scope: a TemplateResponse evaluates its
                # querysets lazily, after this function would have returned.
                render = getattr(response, "render", None)
                if callable(render) and not getattr(response, "is_rendered", True):
                    render()
            return response

        return cast(_View, inner)

"""Pages of other libraries in a variant the site's Content-Security-Policy allows.

The API docs page:
drf-spectacular's Swagger page starts Swagger UI with an inline script and an inline
<style>; here the same page loads its initializer from static/js/api-docs.js, which
reads the schema's address and the settings from data- attributes, and the page's
<style> moved to static/css/api-docs.css. Scripts and styles stay as strict as on every
other page (the browser test expands an operation and runs it without a violation);
only data: images are added, for the icons Swagger UI draws as data: SVGs.
"""

from collections.abc import Callable

from allauth.mfa.totp.views import activate_totp
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.views import SpectacularSwaggerView

SWAGGER_UI_CSP = {"img-src": ["data:"]}


class ApiDocsView(SpectacularSwaggerView):
    # The same context as drf-spectacular's page (its "settings" is Swagger UI's settings
    # as JSON, which the template puts in an attribute); only the template differs.
    template_name = "api/docs.html"


def api_docs_view(url_name: str) -> Callable[[HttpRequest], HttpResponseBase]:
    """The docs page for people who are signed in (anyone else goes to the sign-in page)."""
    view = login_required(ApiDocsView.as_view(url_name=url_name))
    return csp_update(SWAGGER_UI_CSP)(view)


# allauth shows the authenticator app's QR code as a data: image (and the secret as text).
totp_activate_view = csp_update({"img-src": ["data:"]})(activate_totp)

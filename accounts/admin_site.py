"""The support site (Django admin).

Support staff see households' *metadata* across all households, so every admin
view runs inside ``unscoped()`` with the staff member and path as its reason.
The site itself enforces, for every registered model (ours and third-party):

- nothing is added, changed or deleted through a form: every ModelAdmin is made
  read-only at registration; the only writes are the explicit support actions
  (``support_action``), each audited and announced to the household;
- models holding secrets (second-factor keys, confirmation keys) are never registered;
- only support staff whose session used a second factor get in;
- every page that shows a household's records writes a read entry in that
  household's audit log (``accounts.support_audit.staff_read_record``).

``accounts/tests/test_admin_registry.py`` walks the whole registry to check it.
"""

import uuid
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.db.models.base import ModelBase
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.auth.policy import has_second_factor
from accounts.models import Account, Membership, User
from accounts.staff import is_support_staff, staff_session_ready
from accounts.support_audit import staff_read_record
from accounts.tenancy import unscoped

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])
_Action = TypeVar("_Action", bound=Callable[..., Any])

# Never registered, whoever asks: second-factor secrets and recovery codes, and email
# confirmation keys (each would let a reader act as the person).
# django-axes' records (addresses, browsers, emails tried) belong to no household the read
# audit could name: operators read them with axes' own commands instead.
HIDDEN_MODELS = {
    "mfa.authenticator",
    "account.emailconfirmation",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}

SUPPORT_ACTION = "nvr_support_action"


def support_action(*, description: StrOrPromise) -> Callable[[_Action], _Action]:
    """Mark an admin action as a support action: the only actions the site keeps
    (third-party "mark verified", "delete selected" and the like are dropped)."""

    def decorate(function: _Action) -> _Action:
        setattr(function, SUPPORT_ACTION, True)
        return admin.action(description=description, permissions=["support"])(function)

    return decorate


class ReadOnlyAdminMixin:
    """Mixed into every registered ModelAdmin (and its inlines): view only."""

    list_editable: tuple[str, ...] = ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_support_permission(self, request: HttpRequest) -> bool:
        return is_support_staff(request.user)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        return {name: entry for name, entry in actions.items() if getattr(entry[0], SUPPORT_ACTION, False)}

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[type[Any]]:
        return [_read_only(inline) for inline in super().get_inlines(request, obj)]  # type: ignore[misc]


_read_only_classes: dict[type[Any], type[Any]] = {}


def _read_only(admin_class: type[Any]) -> type[Any]:
    if issubclass(admin_class, ReadOnlyAdminMixin):
        return admin_class
    if admin_class not in _read_only_classes:
        attrs = {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__}
        _read_only_classes[admin_class] = type(admin_class.__name__, (ReadOnlyAdminMixin, admin_class), attrs)
    return _read_only_classes[admin_class]


def households_of(objects: Iterable[Any]) -> list[uuid.UUID]:
    """The households whose records these objects are: an account itself, a row's
    ``account_id``, and for a person (or a row about a person) every household they belong to."""
    accounts: list[uuid.UUID] = []
    user_ids: list[Any] = []
    for obj in objects:
        if isinstance(obj, Account):
            accounts.append(obj.pk)
        elif getattr(obj, "account_id", None) is not None:
            accounts.append(obj.account_id)
        elif isinstance(obj, User):
            user_ids.append(obj.pk)
        elif getattr(obj, "user_id", None) is not None:
            user_ids.append(obj.user_id)
    if user_ids:
        accounts += Membership.objects.filter(user_id__in=user_ids).values_list("account_id", flat=True)
    return list(dict.fromkeys(accounts))


def _read_summary(context: dict[str, Any]) -> tuple[str, list[Model]] | None:
    """What the page showed, for the audit: a changelist's rows or one object. In English,
    whatever the staff member reads: the log is a record (model names are translated)."""
    with translation.override("en"):
        return _read_summary_en(context)


def _read_summary_en(context: dict[str, Any]) -> tuple[str, list[Model]] | None:
    changelist = context.get("cl")
    if changelist is not None and hasattr(changelist, "result_list"):
        return f"looked at the list of {changelist.opts.verbose_name_plural}", list(changelist.result_list)
    obj = context.get("original") or context.get("object")
    if isinstance(obj, Model):
        return f"looked at {obj._meta.verbose_name} “{obj}”", [obj]
    return None


class SupportAdminSite(admin.AdminSite):
    site_header = _("NVR support")
    site_title = _("NVR support")
    index_title = _("Households, people and devices (metadata only)")

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        models: list[type[Model]] = (
            [cast(type[Model], model_or_iterable)]
            if isinstance(model_or_iterable, ModelBase)
            else list(model_or_iterable)
        )
        for model in models:
            if model._meta.label_lower in HIDDEN_MODELS:
                continue
            if model in self._registry and getattr(self._registry[model], "replaces_third_party", False):
                continue  # ours, registered first on purpose (a third-party app's would expose more)
            super().register(model, _read_only(admin_class or admin.ModelAdmin), **options)

    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        """None here: a person's password changes on their own security page (which asks
        for the current one and emails them), never through the admin."""
        raise Http404

    def password_change_done(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        raise Http404

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        """Unused (no autocomplete fields), and it would list records without the read audit."""
        raise Http404

    def has_permission(self, request: HttpRequest) -> bool:
        """Support staff, in a session that used the second factor: a staff password alone opens nothing.

        Asked several times per page (our wrapper, Django's, the page's context): the
        group query runs once per request."""
        ready = getattr(request, "_nvr_support_ready", None)
        if ready is None:
            ready = staff_session_ready(cast(User, request.user), request.session)
            request._nvr_support_ready = ready  # type: ignore[attr-defined]
        return bool(ready)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Staff sign in through the site's own sign-in (allauth: the second factor, the
        per-address limits, the new-browser notice), never through a password-only form."""
        user = request.user
        if user.is_authenticated:
            if not is_support_staff(user):
                raise PermissionDenied(_("The support site is for support staff."))
            if not self.has_permission(request):
                return second_factor_redirect(user, next_url=reverse("admin:index", current_app=self.name))
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        view = secure_admin_login(super().login)
        return cast(HttpResponse, view(request, extra_context))

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        protected = super().admin_view(view, cacheable)

        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not self.has_permission(request):
                user = request.user
                if is_support_staff(user):
                    return second_factor_redirect(cast(User, user), next_url=request.get_full_path())
                return protected(request, *args, **kwargs)  # redirects to the admin login
            reason = f"support admin: {request.user} {request.method} {request.path}"
            with unscoped(reason):
                response = protected(request, *args, **kwargs)
                # Render inside the scope: a TemplateResponse evaluates its
                # querysets lazily, after this function would have returned.
                render = getattr(response, "render", None)
                if callable(render) and not getattr(response, "is_rendered", True):
                    render()
                if response.status_code == 200:
                    self._audit_read(request, response)
            return response

        return cast(_View, inner)

    def _audit_read(self, request: HttpRequest, response: HttpResponseBase) -> None:
        context = getattr(response, "context_data", None)
        if not isinstance(context, dict):
            return
        shown = _read_summary(context)
        if shown is None:
            return
        summary, objects = shown
        staff_read_record(staff=cast(User, request.user), account_ids=households_of(objects), summary=summary)


def second_factor_redirect(user: User, *, next_url: str) -> HttpResponseRedirect:
    """A staff member without a second factor in this session: enrol one, or confirm it."""
    if has_second_factor(user):
        return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': next_url})}")
    return HttpResponseRedirect(reverse("mfa_index"))

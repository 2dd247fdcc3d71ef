from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Households and people")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django announces sign-outs (ours and the support admin's) only by this
        # signal; the handler just calls the service.
        from django.contrib.auth.signals import user_logged_out

        from accounts.signals import on_logged_out

        user_logged_out.connect(on_logged_out, dispatch_uid="nvr-close-sockets-on-logout")


class SupportAdminConfig(AdminConfig):
    """Django admin, replaced by the support site (metadata only, unscoped by design)."""

    default_site = "accounts.admin_site.SupportAdminSite"

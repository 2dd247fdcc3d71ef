from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Households and people"
    default_auto_field = "django.db.models.BigAutoField"


class SupportAdminConfig(AdminConfig):
    """Django admin, replaced by the support site (metadata only, unscoped by design)."""

    default_site = "accounts.admin_site.SupportAdminSite"

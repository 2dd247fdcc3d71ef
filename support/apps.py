from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    """Support staff: roles, the households' time-limited grants and the support viewer."""

    name = "support"
    verbose_name = _("Support")
    default_auto_field = "django.db.models.BigAutoField"

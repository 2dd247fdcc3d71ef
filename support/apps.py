from django.apps import AppConfig


class SupportConfig(AppConfig):
    """Support staff: roles, the households' time-limited grants and the support viewer."""

    name = "support"
    verbose_name = "Support"
    default_auto_field = "django.db.models.BigAutoField"

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from recordings.retention import MIN_QUOTA_GB, max_quota_gb, quota_range_message


class StorageQuotaForm(forms.Form):
    storage_quota_gb = forms.DecimalField(
        label=_("Storage quota (GB)"),
        decimal_places=1,
        help_text=_("When recordings take more, the oldest are deleted first."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The ceiling is the operator's setting, read per form (not frozen at import), and
        # both bounds say the same readable sentence as the service that enforces them.
        ceiling = max_quota_gb()
        field = self.fields["storage_quota_gb"]
        field.widget.attrs.update({"min": str(MIN_QUOTA_GB), "max": str(ceiling)})
        field.help_text = _("Up to %(ceiling)s GB. When recordings take more, the oldest are deleted first.") % {
            "ceiling": formats.localize(ceiling)
        }
        self.ceiling = ceiling

    def clean_storage_quota_gb(self) -> Decimal:
        value: Decimal = self.cleaned_data["storage_quota_gb"]
        if not MIN_QUOTA_GB <= value <= self.ceiling:
            raise forms.ValidationError(quota_range_message(self.ceiling))
        return value

    @staticmethod
    def initial_for(quota_bytes: int, gb: int) -> dict[str, Decimal]:
        return {"storage_quota_gb": round(Decimal(quota_bytes) / gb, 1)}

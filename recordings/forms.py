from decimal import Decimal

from django import forms

from recordings.retention import MAX_QUOTA_GB, MIN_QUOTA_GB


class StorageQuotaForm(forms.Form):
    storage_quota_gb = forms.DecimalField(
        label="Storage quota (GB)",
        min_value=MIN_QUOTA_GB,
        max_value=MAX_QUOTA_GB,
        decimal_places=1,
        help_text="When recordings take more, the oldest are deleted first.",
    )

    @staticmethod
    def initial_for(quota_bytes: int, gb: int) -> dict[str, Decimal]:
        return {"storage_quota_gb": round(Decimal(quota_bytes) / gb, 1)}

"""The owner's form for a support grant."""

from typing import Any

from django import forms
from django.conf import settings

from devices.models import Camera


class GrantForm(forms.Form):
    reason = forms.CharField(
        max_length=300, help_text="What support should look at. Everyone in the household sees it."
    )
    hours = forms.IntegerField(min_value=1, initial=24, label="For how many hours")
    whole_household = forms.BooleanField(required=False, label="Every camera (and every clip)")
    cameras = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Or only these cameras"
    )

    def __init__(self, *args: Any, cameras: list[Camera], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.camera_by_id = {str(camera.pk): camera for camera in cameras}
        field = self.fields["cameras"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(camera.pk), camera.name) for camera in cameras]
        longest = settings.NVR_SUPPORT_GRANT_MAX_HOURS
        self.fields["hours"].widget.attrs["max"] = longest
        self.fields["hours"].help_text = f"At most {longest} hours. You can end it at any time."

    def clean_hours(self) -> int:
        hours: int = self.cleaned_data["hours"]
        longest = settings.NVR_SUPPORT_GRANT_MAX_HOURS
        if hours > longest:
            raise forms.ValidationError(f"A grant lasts at most {longest} hours.")
        return hours

    def chosen(self) -> list[Camera] | None:
        """None for the whole household, else the chosen cameras."""
        if self.cleaned_data["whole_household"]:
            return None
        return [self.camera_by_id[camera_id] for camera_id in self.cleaned_data["cameras"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("whole_household") and not data.get("cameras"):
            raise forms.ValidationError("Choose the whole household or at least one camera.")
        if data.get("whole_household") and data.get("cameras"):
            raise forms.ValidationError("Choose either every camera or some cameras, not both.")
        return data

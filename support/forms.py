"""The owner's form for a support grant."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from devices.models import Camera


class GrantForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("What support should look at. Everyone in the household sees it."),
    )
    hours = forms.IntegerField(min_value=1, initial=24, label=_("For how many hours"))
    whole_household = forms.BooleanField(required=False, label=_("Every camera (and every clip)"))
    cameras = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label=_("Or only these cameras")
    )

    def __init__(self, *args: Any, cameras: list[Camera], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.camera_by_id = {str(camera.pk): camera for camera in cameras}
        field = self.fields["cameras"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(camera.pk), camera.name) for camera in cameras]
        longest = settings.NVR_SUPPORT_GRANT_MAX_HOURS
        self.fields["hours"].widget.attrs["max"] = longest
        self.fields["hours"].help_text = ngettext(
            "At most %(count)d hour. You can end it at any time.",
            "At most %(count)d hours. You can end it at any time.",
            longest,
        ) % {"count": longest}

    def clean_hours(self) -> int:
        hours: int = self.cleaned_data["hours"]
        longest = settings.NVR_SUPPORT_GRANT_MAX_HOURS
        if hours > longest:
            raise forms.ValidationError(
                ngettext("A grant lasts at most %(count)d hour.", "A grant lasts at most %(count)d hours.", longest)
                % {"count": longest}
            )
        return hours

    def chosen(self) -> list[Camera] | None:
        """None for the whole household, else the chosen cameras."""
        if self.cleaned_data["whole_household"]:
            return None
        return [self.camera_by_id[camera_id] for camera_id in self.cleaned_data["cameras"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("whole_household") and not data.get("cameras"):
            raise forms.ValidationError(_("Choose the whole household or at least one camera."))
        if data.get("whole_household") and data.get("cameras"):
            raise forms.ValidationError(_("Choose either every camera or some cameras, not both."))
        return data

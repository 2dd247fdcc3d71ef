from typing import Any

from django import forms

from devices.extensions import settings_form_fields
from devices.models import Camera, CameraKind


class CameraAddForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=CameraKind.choices, initial=CameraKind.PUSH, widget=forms.RadioSelect)
    source_url = forms.CharField(
        label="Stream address (pull cameras)",
        required=False,
        max_length=2000,
        help_text="rtsp://user:password@camera.local:554/stream — stored encrypted, never shown again.",
        widget=forms.PasswordInput(render_value=False),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("kind") == CameraKind.PULL and not data.get("source_url"):
            self.add_error("source_url", "A pull camera needs the address the server reads it from.")
        return data


class CameraEditForm(forms.Form):
    name = forms.CharField(max_length=100)
    enabled = forms.BooleanField(required=False, help_text="A disabled camera streams nothing and closes its viewers.")
    source_url = forms.CharField(
        label="New stream address",
        required=False,
        max_length=2000,
        help_text="Leave empty to keep the current one (it is never shown).",
        widget=forms.PasswordInput(render_value=False),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Retention and motion tuning: recordings' fields (devices.extensions).
        self.fields.update(settings_form_fields())

    def settings(self) -> dict[str, Any]:
        """The cleaned values of the other apps' fields."""
        return {name: self.cleaned_data.get(name) for name in settings_form_fields()}


class CameraAccessForm(forms.Form):
    """Which cameras a member or viewer sees: all of them (new ones included), or those ticked."""

    limited = forms.BooleanField(
        label="Only the cameras ticked below",
        required=False,
        help_text="Unticked: every camera of the household, including cameras added later.",
    )
    cameras = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, cameras: list[Camera], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known = {str(camera.pk): camera for camera in cameras}
        field = self.fields["cameras"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(key, camera.name) for key, camera in self.known.items()]

    def chosen(self) -> list[Camera]:
        return [self.known[key] for key in self.cleaned_data["cameras"]]

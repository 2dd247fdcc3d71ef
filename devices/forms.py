from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from devices import presets
from devices.extensions import settings_form_fields
from devices.models import Camera, CameraKind

NEEDS_ADDRESS = gettext_lazy(
    "A pull camera needs the address the server reads it from: choose its brand and fill in "
    "its address, or choose Other and type the full address."
)


class CameraStreamForm(forms.Form):
    """Where the server reads a camera: a brand's fields, or a full address ("Other").

    ``clean`` builds the address (``cleaned_data["source_url"]``) on the server, so the
    services and their address check receive a URL. Neither password field is ever
    rendered back into a page.
    """

    preset = forms.ChoiceField(
        label=gettext_lazy("Brand"),
        required=False,
        choices=[("", gettext_lazy("Choose…")), *presets.preset_choices()],
        help_text=gettext_lazy("Not listed? Choose Other and type the address from the camera's manual."),
    )
    host = forms.CharField(
        label=gettext_lazy("Camera's address"),
        required=False,
        max_length=255,
        help_text=gettext_lazy("Its IP address or name on the network, like 192.168.1.64 (the camera's app shows it)."),
    )
    port = forms.IntegerField(
        label=gettext_lazy("RTSP port"),
        required=False,
        min_value=1,
        max_value=65535,
        help_text=gettext_lazy("Leave empty for the brand's usual port (554; Foscam 88)."),
    )
    camera_user = forms.CharField(
        label=gettext_lazy("Camera user name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    camera_password = forms.CharField(
        label=gettext_lazy("Camera password"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("The camera's own, not this site's. Stored encrypted, never shown again."),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    channel = forms.IntegerField(
        label=gettext_lazy("Channel"),
        required=False,
        min_value=1,
        max_value=presets.MAX_CHANNEL,
        initial=1,
        help_text=gettext_lazy("1 for a camera on its own; on a video recorder (NVR), the camera's number there."),
    )
    stream = forms.ChoiceField(
        label=gettext_lazy("Stream"),
        required=False,
        choices=[
            (presets.Stream.MAIN, gettext_lazy("Main stream (full quality)")),
            (presets.Stream.SUB, gettext_lazy("Sub stream (smaller: for a slow network)")),
        ],
        initial=presets.Stream.MAIN,
        widget=forms.RadioSelect,
    )
    source_url = forms.CharField(
        label=gettext_lazy("Full stream address (Other)"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("rtsp://user:password@camera.local:554/stream — stored encrypted, never shown again."),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def needs_address(self, data: dict[str, Any]) -> bool:
        return True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.needs_address(data):
            data["source_url"] = self._address(data)
        return data

    def _address(self, data: dict[str, Any]) -> str:
        typed = (data.get("source_url") or "").strip()
        key = data.get("preset") or (presets.OTHER if typed else "")
        if not key:
            self.add_error("preset", NEEDS_ADDRESS)
            return ""
        preset = presets.PRESETS[key]
        if preset.key == presets.OTHER:
            if not typed:
                self.add_error("source_url", NEEDS_ADDRESS)
            return typed
        user, password = data.get("camera_user") or "", data.get("camera_password") or ""
        if password and not user:
            self.add_error("camera_user", _("Enter the user name that goes with the password."))
        host = (data.get("host") or "").strip()
        if not host and "host" not in self.errors:
            self.add_error("host", _("Enter the camera's address: its IP address or name, like 192.168.1.64."))
        elif host:
            try:
                presets.clean_host(host)
            except ValueError as error:
                self.add_error("host", str(error))
        if {"host", "port", "camera_user", "channel", "stream"} & set(self.errors):
            return ""
        return presets.build_address(
            preset=preset,
            host=host,
            port=data.get("port"),
            user=user,
            password=password,
            channel=data.get("channel") or 1,
            stream=presets.Stream(data.get("stream") or presets.Stream.MAIN),
        )


class CameraAddForm(CameraStreamForm):
    """A new camera: its name, how its video arrives, and (read by the server) where from."""

    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=100, help_text=gettext_lazy("Where it looks, like Porch or Driveway.")
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("How does its video reach this site?"),
        choices=[
            (CameraKind.PULL, gettext_lazy("This site reads the camera's stream (RTSP): most cameras")),
            (CameraKind.PUSH, gettext_lazy("The camera sends its video here (it needs a token, shown next)")),
        ],
        initial=CameraKind.PULL,
        widget=forms.RadioSelect,
    )
    field_order = ["name", "kind"]

    def needs_address(self, data: dict[str, Any]) -> bool:
        return data.get("kind") == CameraKind.PULL


class CameraEditForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    enabled = forms.BooleanField(
        label=gettext_lazy("Enabled"),
        required=False,
        help_text=gettext_lazy("A disabled camera streams nothing and closes its viewers."),
    )
    source_url = forms.CharField(
        label=gettext_lazy("New stream address"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("Leave empty to keep the current one (it is never shown)."),
        widget=forms.PasswordInput(render_value=False),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Retention and motion tuning: recordings' fields (devices.extensions).
        self.fields.update(settings_form_fields())

    def settings(self) -> dict[str, Any]:
        """The cleaned values of the other apps' fields."""
        return {name: self.cleaned_data.get(name) for name in settings_form_fields()}


class CameraChoiceForm(forms.Form):
    """A form whose ``cameras`` field (a MultipleChoiceField the subclass declares, where it
    wants it shown) offers exactly the ``cameras`` given, those the person may see: a ticked id
    of any other camera is refused as an invalid choice."""

    def __init__(self, *args: Any, cameras: list[Camera], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known = {str(camera.pk): camera for camera in cameras}
        field = self.fields["cameras"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(key, camera.name) for key, camera in self.known.items()]

    def chosen(self) -> list[Camera]:
        return [self.known[key] for key in self.cleaned_data["cameras"]]


class CameraAccessForm(CameraChoiceForm):
    """Which cameras a member or viewer sees: all of them (new ones included), or those ticked."""

    limited = forms.BooleanField(
        label=gettext_lazy("Only the cameras ticked below"),
        required=False,
        help_text=gettext_lazy("Unticked: every camera of the household, including cameras added later."),
    )
    cameras = forms.MultipleChoiceField(
        label=gettext_lazy("Cameras"), required=False, widget=forms.CheckboxSelectMultiple
    )

from django import forms

from devices.forms import CameraChoiceForm


class NotificationSettingsForm(CameraChoiceForm):
    """One person's choices. The camera choices are the cameras they may see, no others."""

    email_enabled = forms.BooleanField(label="Email me", required=False)
    webhook_enabled = forms.BooleanField(label="Call my webhook", required=False)
    webhook_url = forms.CharField(
        label="Webhook address",
        required=False,
        max_length=2000,
        help_text="An http:// or https:// address on the internet. Each message is signed (see below).",
    )
    all_cameras = forms.BooleanField(
        label="Every camera I can see", required=False, help_text="Including cameras added later."
    )
    cameras = forms.MultipleChoiceField(
        label="Or only these cameras", required=False, widget=forms.CheckboxSelectMultiple
    )
    quiet_start = forms.TimeField(
        label="Quiet from", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_end = forms.TimeField(
        label="Quiet until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In your time zone. Nothing is sent between these times (22:00 to 07:00 spans the night).",
    )

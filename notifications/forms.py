from django import forms
from django.utils.translation import gettext_lazy as _

from devices.forms import CameraChoiceForm


class NotificationSettingsForm(CameraChoiceForm):
    """One person's choices. The camera choices are the cameras they may see, no others."""

    email_enabled = forms.BooleanField(label=_("Email me"), required=False)
    webhook_enabled = forms.BooleanField(label=_("Call my webhook"), required=False)
    webhook_url = forms.CharField(
        label=_("Webhook address"),
        required=False,
        max_length=2000,
        help_text=_("An http:// or https:// address on the internet. Each message is signed (see below)."),
    )
    all_cameras = forms.BooleanField(
        label=_("Every camera I can see"), required=False, help_text=_("Including cameras added later.")
    )
    cameras = forms.MultipleChoiceField(
        label=_("Or only these cameras"), required=False, widget=forms.CheckboxSelectMultiple
    )
    quiet_start = forms.TimeField(
        label=_("Quiet from"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_end = forms.TimeField(
        label=_("Quiet until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In your time zone. Nothing is sent between these times (22:00 to 07:00 spans the night)."),
    )

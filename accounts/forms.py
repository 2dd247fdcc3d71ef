from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.timezones import zone_names


class SignupForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    household_name = forms.CharField(label=_("Household name"), max_length=100, help_text=_("For example: The Smiths"))
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(_("An account with this email address already exists. Sign in instead."))
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            candidate = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True}))


class HouseholdForm(forms.Form):
    name = forms.CharField(label=_("Household name"), max_length=100)
    require_second_factor = forms.BooleanField(
        label=_("Everyone needs a second factor"),
        required=False,
        help_text=_("Members without an authenticator app or passkey must set one up before they see anything here."),
    )


class InviteForm(forms.Form):
    # The column's length (forms allow 320): a longer address was a database error on PostgreSQL.
    email = forms.EmailField(label=_("Their email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class LanguageForm(forms.Form):
    """The language of the pages and emails; empty: the browser's."""

    language = forms.ChoiceField(
        required=False,
        label=_("Language"),
        help_text=_("Pages and emails are written in it. Leave on “this browser's” to follow the device you use."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        # Each language named in itself, so a person who cannot read the page still finds theirs.
        field.choices = [("", _("This browser's language")), *settings.LANGUAGES]


class ZoneSelect(forms.Select):
    """IANA's zone names are names, the same in every language: marked ``translate="no"``
    (the HTML attribute), so neither a browser's translator nor the French page tests
    take "America/Port of Spain" for an English sentence."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(name, value, *args, **kwargs)
        if value:
            option["attrs"]["translate"] = "no"
        return option


class TimeZoneForm(forms.Form):
    """The zone every time on the pages is shown in; empty: the browser's."""

    time_zone = forms.ChoiceField(
        widget=ZoneSelect,
        required=False,
        label=_("Time zone"),
        help_text=_("Times on every page are shown in it. Leave on “this browser's” to follow the device you use."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        zones = ((name, name.replace("_", " ")) for name in zone_names())
        field.choices = [("", _("This browser's time zone")), *zones]

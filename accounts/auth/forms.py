"""The fields sign-up adds to allauth's (email and password): a name and a household."""

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.services import account_create


class HouseholdSignupForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    household_name = forms.CharField(label=_("Household name"), max_length=100, help_text=_("For example: The Smiths"))

    def signup(self, request: HttpRequest, user: User) -> None:
        """allauth calls this once the new user is saved: they own a new household."""
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])
        account_create(owner=user, name=self.cleaned_data["household_name"])

"""Sign up, sign in, sign out, change password, confirm the email address."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView, PasswordChangeView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import LoginForm, SignupForm
from accounts.http import TenantRequest
from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.services import email_verification_send, email_verify, password_changed, user_signup
from accounts.verification import user_for_token


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership = user_signup(
                email=data["email"],
                password=data["password1"],
                full_name=data["full_name"],
                household_name=data["household_name"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[ACTIVE_ACCOUNT_SESSION_KEY] = str(membership.account_id)
            return redirect("accounts:home")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


class SignInView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class SignOutView(LogoutView):
    http_method_names = ["post", "options"]


class ChangePasswordView(PasswordChangeView):
    """Keeps this session signed in; other sessions end at their next request, and
    every open live view of the user closes at once."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        password_changed(user=form.user)
        messages.success(self.request, "Password changed. Your other sessions are signed out.")
        return response


@require_http_methods(["GET", "HEAD"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm an address from the emailed link (works signed in or not)."""
    user = user_for_token(token)
    if user is None:
        context = {"ok": False}
        return render(request, "accounts/verify_email.html", context, status=400)
    email_verify(user=user)
    return render(request, "accounts/verify_email.html", {"ok": True, "email": user.email})


@require_POST
@login_required
def verify_email_resend(request: TenantRequest) -> HttpResponse:
    if request.user.email_verified_at:
        messages.info(request, "Your email address is already confirmed.")
    else:
        email_verification_send(user=request.user)
        messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
    return redirect("accounts:households")

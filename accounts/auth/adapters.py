"""django-allauth's hooks into this site: the client's address, the household mirror of
a confirmed address, a notice on a sign-in from a new browser, and sessions whose end
closes their live sockets."""

from collections.abc import Iterable
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from allauth.usersessions.models import UserSession
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from accounts.auth import browsers
from accounts.auth.client import FailureCounter, client_ip, throttle_key
from accounts.crypto import decrypt_personal, encrypt_personal
from accounts.languages import supported
from accounts.models import User
from accounts.services import email_confirmed, password_changed, session_ended

MFA_PURPOSE = "mfa-secret"
SIGN_IN_FAILURES = FailureCounter("sign-in", limit_setting="NVR_SIGN_IN_FAILURES_PER_ADDRESS")


# The "check your inbox" page says so itself; as a message it waited for the next page
# that shows messages, the one after confirming, where it asked again to confirm.
SILENT_MESSAGES = frozenset({"account/messages/email_confirmation_sent.txt"})


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def add_message(
        self, request: HttpRequest, level: int, message_template: str = "", *args: Any, **kwargs: Any
    ) -> None:
        if message_template in SILENT_MESSAGES:
            return
        super().add_message(request, level, message_template, *args, **kwargs)

    def save_user(self, request: HttpRequest, user: AbstractBaseUser, form: Any, commit: bool = True) -> Any:
        # A new person's language is the one their browser asked for at sign-up: their emails,
        # written with no browser to ask, are in it too. They may change it on their profile.
        assert isinstance(user, User)
        user.language = supported(translation.get_language()) or ""
        return super().save_user(request, user, form, commit)

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth counts failed sign-ins per login "key"; ours is the login *and* the
        # client's address, so a stranger's failures elsewhere never lock the owner out.
        # (Second-factor checks use their own per-user key, which stays as it is.)
        key = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{key}@{throttle_key(client_ip(request))}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # Wrong passwords per address, whatever the account. Not allauth's "ip" bucket:
        # a successful second-factor check or password reset empties every bucket of its
        # action, so a sprayer signing in to an account of their own would reset it.
        if SIGN_IN_FAILURES.blocked(client_ip(request)):
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        SIGN_IN_FAILURES.failed(client_ip(request))
        super().authentication_failed(request, **credentials)

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        confirmed = bool(super().confirm_email(request, email_address))
        if confirmed:
            email_confirmed(user=email_address.user, email=email_address.email)
        return confirmed

    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        """Change and reset both come here: every open live view of the person closes, and
        their other sessions no longer match the password (the changing one is kept)."""
        super().set_password(user, password)
        assert isinstance(user, User)
        password_changed(user=user)

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post_login(request, user, **kwargs)
        assert isinstance(user, User)
        browsers.remember_or_notify(request, response, user=user, signup=bool(kwargs.get("signup")))
        return response


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]  # allauth is untyped
    """Authenticator-app keys are stored encrypted under the master key (allauth stores them
    as given otherwise), so a database copy alone cannot make codes."""

    def encrypt(self, text: str) -> str:
        return encrypt_personal(MFA_PURPOSE, text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_personal(MFA_PURPOSE, encrypted_text)


class UserSessionsAdapter(DefaultUserSessionsAdapter):  # type: ignore[misc]  # allauth is untyped
    def end_sessions(self, sessions: Iterable[UserSession]) -> None:
        for session in sessions:
            key = session.session_key
            session.end()
            session_ended(session_key=key)

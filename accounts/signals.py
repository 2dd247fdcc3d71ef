"""The one signal we listen to: Django's sign-out, which has no other hook."""

from typing import Any

from django.http import HttpRequest

from accounts.services import session_ended


def on_logged_out(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        session_ended(session_key=request.session.session_key)

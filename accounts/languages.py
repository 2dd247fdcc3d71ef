"""Each person's language: the one they chose, else their browser's, else English.

``LanguageMiddleware`` stands in for Django's ``LocaleMiddleware`` (there are no language
prefixes in URLs): after authentication it activates the person's chosen language, and
for people who chose none (or nobody signed in) the one their browser asks for
(``Accept-Language``). Emails and other messages sent outside a request are written in
their recipient's language with ``language_of_user``.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from accounts.models import User


def supported(code: str | None) -> str | None:
    """``code`` if it is one of the site's languages (``LANGUAGES``), else None."""
    return code if code and code in dict(settings.LANGUAGES) else None


def language_of_user(user: User | None) -> str:
    """The language to write to ``user`` in when no browser asks: theirs, else the site's."""
    return supported(getattr(user, "language", "")) or settings.LANGUAGE_CODE


def language_of(request: HttpRequest) -> str:
    """The person's chosen language, else their browser's, else the site's."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = supported(getattr(user, "language", ""))
        if chosen:
            return chosen
    return translation.get_language_from_request(request)


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = language_of(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
        finally:
            # The thread's next work (another request, a task, a test) starts in the site's language.
            translation.deactivate()
        # The same URL answers in another language to another browser: caches must know.
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response

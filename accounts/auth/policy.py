"""A household's rule that everyone in it has a second factor, and used it to sign in."""

import uuid
from collections.abc import Mapping
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled

from accounts.models import Account, User

# Where allauth lists the ways this session authenticated (password, mfa, ...).
AUTHENTICATION_METHODS = "account_authentication_methods"


def session_used_second_factor(session: Mapping[str, Any]) -> bool:
    return any(entry.get("method") == "mfa" for entry in session.get(AUTHENTICATION_METHODS, []))


def second_factor_missing(*, account: Account, session: Mapping[str, Any]) -> bool:
    """True when the household requires a second factor and this session has not used one:
    the person sees nothing of that household until they enrol one (or, if they have one,
    confirm it). Per session, not per person: a session signed in with a password before
    its owner enrolled does not become trusted by the enrolment."""
    return account.require_second_factor and not session_used_second_factor(session)


def has_second_factor(user: User) -> bool:
    return bool(is_mfa_enabled(user))


def users_with_second_factor(user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Of these people, those with a second factor (one query, not one per person)."""
    return set(Authenticator.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))

"""A household's rule that everyone in it has a second factor, and used it to sign in."""

from collections.abc import Mapping
from typing import Any

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
    from allauth.mfa.utils import is_mfa_enabled

    return bool(is_mfa_enabled(user))

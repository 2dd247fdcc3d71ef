"""A household's rule that everyone in it has a second factor."""

from allauth.mfa.utils import is_mfa_enabled

from accounts.models import Account, User


def second_factor_missing(*, user: User, account: Account) -> bool:
    """True when the household requires a second factor and the person has none yet:
    they see nothing of that household until they enrol one."""
    return account.require_second_factor and not is_mfa_enabled(user)

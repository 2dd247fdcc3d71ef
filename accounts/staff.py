"""Who counts as support staff, and when a staff session may be used.

Staff accounts are made and changed by operators only (``manage.py staff``), never
in the admin. Every staff session must have used a second factor: a staff
password alone opens nothing.
"""

from collections.abc import Mapping
from typing import Any

from accounts.auth.policy import session_used_second_factor
from accounts.models import User

SUPPORT_GROUP = "Support"


def is_support_staff(user: Any) -> bool:
    """An active staff account in the support group, or an operator's superuser."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return False
    return bool(user.is_superuser or user.groups.filter(name=SUPPORT_GROUP).exists())


def staff_session_ready(user: User, session: Mapping[str, Any]) -> bool:
    """Support staff who signed in to this session with their second factor."""
    return is_support_staff(user) and session_used_second_factor(session)

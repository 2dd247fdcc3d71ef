"""Support grants for tests (staff accounts: ``staff_user``/``staff_client`` in conftest)."""

import uuid

from accounts.models import Role
from accounts.tenancy import account_scope
from conftest import Household
from support.models import SupportGrant
from support.services import grant_create


def grant_give(household: Household, *, cameras: int | None = None, hours: int = 1) -> SupportGrant:
    """The owner's grant: the whole household, or its first ``cameras`` cameras."""
    with account_scope(household.account.pk, user_id=household.owner.pk):
        chosen = None if cameras is None else household.cameras[:cameras]
        return grant_create(
            actor=household.memberships[Role.OWNER], reason="The porch camera drops out", hours=hours, cameras=chosen
        )


def grant_of(household: Household) -> uuid.UUID:
    """An active whole-household grant of ``household``, made once per household."""
    if household.grant_id is None:
        household.grant_id = grant_give(household).pk
    return household.grant_id

"""Support staff and grants for tests."""

import time
import uuid

from django.contrib.auth.models import Group
from django.test import Client

from accounts.auth.policy import AUTHENTICATION_METHODS
from accounts.models import Role, User
from accounts.staff import SUPPORT_GROUP
from accounts.tenancy import account_scope
from accounts.tests.factories import UserFactory
from conftest import Household
from support.models import SupportGrant
from support.services import grant_create


def support_user(email: str = "sam@support.test", *, superuser: bool = False) -> User:
    user: User = UserFactory.create(email=email, full_name=email.split("@")[0].title())
    user.is_staff = True
    user.is_superuser = superuser
    user.save()
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    user.groups.add(group)
    return user


def staff_signed_in(user: User, *, second_factor: bool = True) -> Client:
    """A staff browser whose session signed in with a second factor (or the password alone)."""
    client = Client()
    client.force_login(user)
    session = client.session
    methods = [{"method": "password", "at": time.time(), "email": user.email}]
    if second_factor:
        methods.append({"method": "mfa", "at": time.time(), "type": "totp"})
    session[AUTHENTICATION_METHODS] = methods
    session.save()
    return client


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

"""Support staff: made by operators only, a fixed minimal role, always a second factor,
never a household member, and no way in the admin to take over a person or widen a role."""

import json
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.services import OPERATOR, invitation_accept, invitation_create, member_add
from accounts.staff import SUPPORT_GROUP, SUPPORT_PERMISSIONS, support_group_sync
from accounts.tenancy import account_scope
from conftest import PASSWORD, World, client_for, staff_client, staff_user

NEW_PASSWORD = "mallory's takeover passphrase 99"


def run(*args: str) -> dict:
    out = StringIO()
    call_command("staff", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def signs_in(email: str, password: str) -> bool:
    client = Client()
    client.post(reverse("account_login"), {"login": email, "password": password})
    return "_auth_user_id" in client.session


# --- The operators' command -------------------------------------------------------------


def test_create_makes_a_staff_account_whose_link_sets_its_password(db):
    data = run("create", "--email", "Sam@Support.test", "--name", "Sam", "--role", "support")
    user = User.objects.get(email="sam@support.test")
    assert data["user"] == {"id": str(user.pk), "email": "sam@support.test", "role": "support"}
    assert user.is_staff
    assert not user.is_superuser
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == [SUPPORT_GROUP]
    link = data["password_link"]
    assert "/password/reset/key/" in link

    browser = Client()
    response = browser.get(link.split("://", 1)[1].split("/", 1)[1].join(["/", ""]))
    assert response.status_code == 302  # allauth moves the key into the session
    response = browser.post(response["Location"], {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # Used once: the key no longer matches the new password.
    again = Client().get(link.split("://", 1)[1].split("/", 1)[1].join(["/", ""]), follow=True)
    assert b'name="password1"' not in again.content

    # Signed in with the password, the admin is not open until a second factor is set up.
    browser = Client()
    browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" in browser.session
    response = browser.get("/support/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")
    assert browser.get(reverse("accounts:home"))["Location"] == reverse("mfa_index")


def test_set_role_deactivate_and_list(db):
    run("create", "--email", "sam@support.test", "--name", "Sam", "--role", "support")
    assert run("set-role", "--email", "sam@support.test", "--role", "superuser")["user"]["role"] == "superuser"
    user = User.objects.get(email="sam@support.test")
    assert user.is_superuser
    assert not user.groups.exists()
    listing = run("list")["staff"]
    assert [(row["email"], row["role"], row["active"]) for row in listing] == [("sam@support.test", "superuser", True)]
    run("deactivate", "--email", "sam@support.test")
    user.refresh_from_db()
    assert (user.is_active, user.is_staff, user.is_superuser) == (False, False, False)
    assert run("list")["staff"] == []


def test_create_refuses_an_address_already_in_use(world: World):
    with pytest.raises(CommandError, match="already used"):
        call_command("staff", "create", "--email", "ALICE@a.test", "--name", "A", "--role", "superuser")
    assert not User.objects.get(email="alice@a.test").is_staff


def test_household_members_cannot_become_staff(world: World):
    with pytest.raises(CommandError, match="household member"):
        call_command("staff", "set-role", "--email", "alice@a.test", "--role", "support")
    assert not User.objects.get(email="alice@a.test").is_staff


def test_createsuperuser_points_to_the_staff_command(db):
    with pytest.raises(CommandError, match="staff create"):
        call_command("createsuperuser", "--noinput", "--email", "root@x.test")
    assert not User.objects.exists()


def test_the_support_group_holds_exactly_the_view_permissions(db):
    group = support_group_sync()
    group.permissions.add(Permission.objects.get(codename="change_user"))  # widened by hand
    support_group_sync()
    support_group_sync()
    codenames = set(
        Group.objects.get(name=SUPPORT_GROUP).permissions.values_list("content_type__app_label", "codename")
    )
    assert codenames == set(SUPPORT_PERMISSIONS)
    assert all(codename.startswith("view_") for _, codename in codenames)


# --- Staff are never household members ---------------------------------------------------


def test_staff_cannot_be_added_to_or_join_a_household(world: World):
    staff = staff_user("support", email="sam@support.test")
    with account_scope(world.a.account.pk):
        with pytest.raises(ValidationError, match="Staff accounts cannot join"):
            member_add(actor=OPERATOR, email=staff.email, role=Role.VIEWER)
        invitation = invitation_create(actor=OPERATOR, email=staff.email, role=Role.VIEWER)
    with pytest.raises(ValidationError, match="Staff accounts cannot join"):
        invitation_accept(user=staff, invitation=invitation)


# --- Replays of the takeover and the self-escalation ---------------------------------------


def test_replay_the_takeover_staff_cannot_set_a_households_password(world: World):
    """A superuser (every permission) tries each way Django's admin used to offer."""
    owner = world.a.owner
    client = staff_client("superuser")
    password_url = f"/support/accounts/user/{owner.pk}/password/"
    # No such page: the admin's catch-all sends the path to the site index, formless.
    page = client.get(password_url, follow=True)
    assert page.status_code in (200, 404)
    assert b'name="password1"' not in page.content
    for url in (password_url, password_url + "change/"):
        response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code in (302, 403, 404), url
    change = reverse("admin:accounts_user_change", args=[owner.pk])
    form = client.get(change).content.decode()
    assert 'name="password' not in form
    assert "/password/" not in form
    fields = {"email": owner.email, "full_name": "Alice", "is_active": "on", "password": NEW_PASSWORD}
    fields |= {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    assert client.post(change, fields).status_code == 403
    add = reverse("admin:accounts_user_add")
    assert client.get(add).status_code == 403
    assert client.post(add, {"email": "mallory@x.test", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert not User.objects.filter(email="mallory@x.test").exists()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert not signs_in(owner.email, NEW_PASSWORD)
    assert signs_in(owner.email, PASSWORD)


ESCALATION = {
    "email": "x@staff.test",
    "full_name": "Sam",
    "is_active": "on",
    "is_staff": "on",
    "is_superuser": "on",
}


def test_replay_the_self_escalation_staff_cannot_change_their_own_flags(world: World):
    user = staff_user("support")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = staff_client(user=user)
    change = reverse("admin:accounts_user_change", args=[user.pk])
    all_permissions = [str(p.pk) for p in Permission.objects.all()]
    groups = [str(g.pk) for g in Group.objects.all()]
    response = client.post(change, ESCALATION | {"groups": groups, "user_permissions": all_permissions})
    assert response.status_code == 403
    user.refresh_from_db()
    assert not user.is_superuser
    assert set(user.user_permissions.values_list("codename", flat=True)) == {"view_user", "change_user"}
    assert list(user.groups.values_list("name", flat=True)) == [SUPPORT_GROUP]
    group = Group.objects.get(name=SUPPORT_GROUP)
    assert client.post(reverse("admin:auth_group_change", args=[group.pk]), {"permissions": all_permissions})
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == set(SUPPORT_PERMISSIONS)


def test_a_superuser_cannot_change_anyones_flags_either(world: World):
    client = staff_client("superuser")
    bob = world.a.member
    response = client.post(reverse("admin:accounts_user_change", args=[bob.pk]), ESCALATION | {"email": bob.email})
    assert response.status_code == 403
    bob.refresh_from_db()
    assert (bob.is_staff, bob.is_superuser) == (False, False)


# --- Second factor ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "superuser"])
def test_a_password_only_staff_session_sees_no_admin_data(world: World, role: str):
    client = staff_client(role, second_factor=False)
    for path in ("/support/", reverse("admin:accounts_account_changelist"), "/support/login/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("mfa_reauthenticate")), path
    # Everything else too, except the enrolment and own-account pages.
    assert client.get(reverse("accounts:home"))["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("accounts:security")).status_code == 200


def test_staff_without_a_second_factor_are_sent_to_enrol_one(world: World):
    user = staff_user("support")
    Authenticator.objects.filter(user=user).delete()
    client = staff_client(user=user, second_factor=False)
    assert client.get("/support/")["Location"] == reverse("mfa_index")


def test_staff_outside_the_support_group_get_nothing(world: World):
    user = staff_user("support")
    user.groups.clear()
    client = staff_client(user=user)
    assert client.get("/support/login/").status_code == 403
    assert client.get(reverse("admin:accounts_account_changelist"))["Location"].startswith(reverse("admin:login"))


def test_households_are_unaffected(world: World):
    assert client_for(world.a.owner).get(reverse("accounts:home")).status_code == 200


# --- After the security review ----------------------------------------------------------


def test_support_actions_never_touch_a_staff_account(world: World):
    """Resetting a superuser's second factor would reopen its password-only sign-in."""
    support = staff_client()
    boss = staff_user("superuser")
    for action in ("reset_second_factor", "end_sessions", "send_password_reset"):
        response = support.post(
            reverse("admin:accounts_user_changelist"), {"action": action, "_selected_action": [str(boss.pk)]}
        )
        assert response.status_code == 302
    assert Authenticator.objects.filter(user=boss).exists()


def test_operators_reset_a_staff_members_sign_in(db):
    run("create", "--email", "sam@support.test", "--name", "Sam", "--role", "support")
    sam = User.objects.get(email="sam@support.test")
    sam.set_password(PASSWORD)
    sam.save()
    Authenticator.objects.create(user=sam, type=Authenticator.Type.RECOVERY_CODES, data={})
    data = run("reset-sign-in", "--email", "sam@support.test")
    sam.refresh_from_db()
    assert not sam.has_usable_password()
    assert not Authenticator.objects.filter(user=sam).exists()
    assert "/password/reset/key/" in data["password_link"]


def test_the_admin_has_no_password_change_or_autocomplete(world: World):
    for role in ("support", "superuser"):
        client = staff_client(role)
        assert client.get("/support/password_change/").status_code == 404
        assert client.post("/support/password_change/", {"new_password1": "x", "new_password2": "x"}).status_code == 404
        assert client.get("/support/password_change/done/").status_code == 404
        query = "?app_label=accounts&model_name=membership&field_name=account&term="
        assert client.get("/support/autocomplete/" + query).status_code == 404


def test_staff_cannot_create_a_household(world: World):
    client = staff_client()
    response = client.post(reverse("accounts:households"), {"name": "Sam's place"})
    assert response.status_code == 400
    assert "Staff accounts cannot have a household" in response.content.decode()
    with account_scope(world.a.account.pk):
        assert not Membership.objects.filter(user=client.staff).exists()  # type: ignore[attr-defined]

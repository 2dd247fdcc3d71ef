from django.urls import reverse

from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.models import Role
from accounts.services import OPERATOR, member_add
from accounts.tenancy import account_scope
from conftest import client_for


def test_every_page_shows_the_active_household(alice, world):
    for name in ("accounts:home", "accounts:members", "accounts:access-history", "accounts:households"):
        body = alice.get(reverse(name)).content.decode()
        assert 'data-testid="active-household"' in body
        assert "Atkins family" in body


def test_a_person_in_two_households_switches_between_them(world):
    with account_scope(world.b.account.pk):
        member_add(actor=OPERATOR, email=world.a.owner.email, role=Role.VIEWER)
    alice = client_for(world.a.owner)
    assert "Atkins family" in alice.get(reverse("accounts:home")).content.decode()
    response = alice.post(reverse("accounts:household-switch", args=[world.b.account.pk]))
    assert response.status_code == 302
    assert alice.session[ACTIVE_ACCOUNT_SESSION_KEY] == str(world.b.account.pk)
    home = alice.get(reverse("accounts:home")).content.decode()
    assert "Brown family" in home
    members = alice.get(reverse("accounts:members")).content.decode()
    assert "dave@b.test" in members
    assert "bob@a.test" not in members


def test_switching_to_a_household_you_are_not_in_is_404(alice, world):
    response = alice.post(reverse("accounts:household-switch", args=[world.b.account.pk]))
    assert response.status_code == 404
    assert alice.session.get(ACTIVE_ACCOUNT_SESSION_KEY) != str(world.b.account.pk)


def test_a_forged_session_value_does_not_select_another_household(alice, world):
    session = alice.session
    session[ACTIVE_ACCOUNT_SESSION_KEY] = str(world.b.account.pk)
    session.save()
    body = alice.get(reverse("accounts:members")).content.decode()
    assert "Atkins family" in body
    assert "charlie@b.test" not in body


def test_it_creates_another_household_and_makes_it_active(alice, world):
    response = alice.post(reverse("accounts:households"), {"name": "Beach house"})
    assert response.status_code == 302
    assert "Beach house" in alice.get(reverse("accounts:home")).content.decode()


def test_it_refuses_a_blank_household_name(alice, world):
    response = alice.post(reverse("accounts:households"), {"name": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_a_user_in_no_household_is_asked_to_create_one(client, world):
    from accounts.services import user_create

    loner = user_create(email="loner@x.test", password="a sturdy passphrase 42")
    client.force_login(loner)
    response = client.get(reverse("accounts:home"))
    assert response["Location"] == reverse("accounts:households")
    body = client.get(reverse("accounts:households")).content.decode()
    assert "not in any household" in body
    assert client.get(reverse("api:household")).status_code == 403


def test_owners_rename_the_household(alice, bob, world):
    assert alice.post(reverse("accounts:household-settings"), {"name": "Atkins & co"}).status_code == 302
    assert "Atkins &amp; co" in alice.get(reverse("accounts:home")).content.decode()
    assert bob.post(reverse("accounts:household-settings"), {"name": "Bob's"}).status_code == 403


def test_a_form_from_a_tab_showing_another_household_is_refused(world):
    """Alice is in both; a tab still shows A while she switched to B in another."""
    with account_scope(world.b.account.pk):
        member_add(actor=OPERATOR, email=world.a.owner.email, role=Role.OWNER)
    alice = client_for(world.a.owner)
    alice.post(reverse("accounts:household-switch", args=[world.b.account.pk]))
    stale_tab = {"name": "Renamed from the old tab", "household": str(world.a.account.pk)}
    response = alice.post(reverse("accounts:household-settings"), stale_tab)
    assert response.status_code == 409
    assert "belongs to another of your households" in response.content.decode()
    with account_scope(world.b.account.pk):
        from accounts.models import Account

        assert Account.objects.get().name == "Brown family"


def test_a_change_meant_for_a_household_one_has_left_is_refused(world):
    """Removed from B while B was active: the next POST must not land in A."""
    with account_scope(world.b.account.pk):
        membership = member_add(actor=OPERATOR, email=world.a.owner.email, role=Role.OWNER)
    alice = client_for(world.a.owner)
    alice.post(reverse("accounts:household-switch", args=[world.b.account.pk]))
    with account_scope(world.b.account.pk):
        membership.delete()
    response = alice.post(reverse("accounts:household-settings"), {"name": "Meant for B"})
    assert response.status_code == 409
    assert "no longer a member" in response.content.decode()
    assert "Atkins family" in alice.get(reverse("accounts:home")).content.decode()


def test_sign_in_picks_the_household_used_last(world, client):
    from conftest import PASSWORD

    with account_scope(world.b.account.pk):
        member_add(actor=OPERATOR, email=world.a.owner.email, role=Role.VIEWER)
    alice = client_for(world.a.owner)
    alice.post(reverse("accounts:household-switch", args=[world.b.account.pk]))
    client.post(reverse("account_login"), {"login": "alice@a.test", "password": PASSWORD})
    assert "Brown family" in client.get(reverse("accounts:home")).content.decode()


def test_household_forms_carry_the_household_they_were_rendered_for(alice, world):
    for name in ("accounts:members", "accounts:household-settings"):
        body = alice.get(reverse(name)).content.decode()
        assert f'name="household" value="{world.a.account.pk}"' in body

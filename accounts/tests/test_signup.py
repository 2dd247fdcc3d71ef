from django.urls import reverse

from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.models import Account, Membership, Role, User
from accounts.tenancy import unscoped

GOOD = {
    "full_name": "Nora New",
    "email": "Nora@Example.test",
    "household_name": "The News",
    "password1": "a sturdy passphrase 42",
    "password2": "a sturdy passphrase 42",
}


def test_it_creates_the_user_and_their_household(client, db):
    response = client.post(reverse("accounts:signup"), GOOD)
    assert response.status_code == 302
    user = User.objects.get(email="nora@example.test")
    with unscoped("test"):
        membership = Membership.objects.select_related("account").get(user=user)
    assert membership.role == Role.OWNER
    assert membership.account.name == "The News"
    assert client.session[ACTIVE_ACCOUNT_SESSION_KEY] == str(membership.account_id)
    home = client.get(reverse("accounts:home"))
    assert "The News" in home.content.decode()


def test_it_refuses_a_taken_email_and_writes_nothing(client, world):
    response = client.post(reverse("accounts:signup"), {**GOOD, "email": "ALICE@a.test"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    with unscoped("test"):
        assert Account.objects.count() == 2


def test_it_refuses_a_weak_or_mismatched_password(client, db):
    weak = client.post(reverse("accounts:signup"), {**GOOD, "password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 400
    assert "too short" in weak.content.decode() or "too common" in weak.content.decode()
    mismatch = client.post(reverse("accounts:signup"), {**GOOD, "password2": "something else entirely"})
    assert "The two passwords differ." in mismatch.content.decode()
    assert not User.objects.exists()


def test_it_requires_every_field(client, db):
    response = client.post(reverse("accounts:signup"), {"email": "not-an-email"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in body
    assert "This field is required." in body


def test_it_sends_signed_in_people_home(alice):
    assert alice.get(reverse("accounts:signup"))["Location"] == reverse("accounts:home")

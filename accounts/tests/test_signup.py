"""Sign-up: a person and their household, confirmed by email, answering the same for a taken address."""

import re

from django.core import mail
from django.urls import reverse

from accounts.models import Account, Membership, Role, User
from accounts.tenancy import unscoped

GOOD = {
    "full_name": "Nora New",
    "email": "Nora@Example.test",
    "household_name": "The News",
    "password1": "a sturdy passphrase 42",
    "password2": "a sturdy passphrase 42",
}


def confirmation_link(message) -> str:
    found = re.search(r"https?://[^/\s]+(/account/confirm-email/[^\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_it_creates_the_user_and_their_household_once_the_address_is_confirmed(client, db):
    response = client.post(reverse("account_signup"), GOOD)
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session  # not before the address is proved
    user = User.objects.get(email="nora@example.test")
    assert user.full_name == "Nora New"
    assert user.email_verified_at is None
    [message] = mail.outbox
    assert message.to == ["nora@example.test"]
    confirmed = client.post(confirmation_link(message))
    assert confirmed.status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None  # invitations to this address can now reach them
    with unscoped("test"):
        membership = Membership.objects.select_related("account").get(user=user)
    assert membership.role == Role.OWNER
    assert membership.account.name == "The News"
    home = client.get(reverse("accounts:home"))
    assert "The News" in home.content.decode()


def test_a_taken_address_answers_the_same_and_tells_its_owner(client, world):
    fresh = client.post(reverse("account_signup"), {**GOOD, "email": "someone.new@example.test"})
    taken = client.post(reverse("account_signup"), {**GOOD, "email": "ALICE@a.test"})
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"] == reverse("account_email_verification_sent")
    assert "already exists" not in client.get(taken["Location"]).content.decode()
    to_alice = [m for m in mail.outbox if m.to == ["alice@a.test"]]
    assert len(to_alice) == 1
    assert "already" in to_alice[0].body.lower()  # "you already have an account": sign in or reset
    with unscoped("test"):
        assert Account.objects.count() == 3  # A, B and the fresh sign-up; nothing for the taken one
    assert User.objects.filter(email="alice@a.test").count() == 1


def test_it_refuses_a_weak_or_mismatched_password(client, db):
    weak = client.post(reverse("account_signup"), {**GOOD, "password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 200
    assert "too short" in weak.content.decode() or "too common" in weak.content.decode()
    mismatch = client.post(reverse("account_signup"), {**GOOD, "password2": "something else entirely"})
    assert "You must type the same password each time." in mismatch.content.decode()
    assert not User.objects.exists()


def test_it_requires_every_field(client, db):
    response = client.post(reverse("account_signup"), {"email": "not-an-email"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address." in body
    assert "This field is required." in body
    assert not User.objects.exists()


def test_it_sends_signed_in_people_home(alice):
    assert alice.get(reverse("account_signup"))["Location"] == reverse("accounts:home")


def test_after_confirming_nothing_asks_to_confirm_again(client, db):
    client.post(reverse("account_signup"), GOOD)
    [message] = mail.outbox
    link = confirmation_link(message)
    page = client.get(link).content.decode()
    assert 'Confirm that <span translate="no">nora@example.test</span> is your address' in page
    landed = client.post(link, follow=True).content.decode()
    assert "You have confirmed nora@example.test" in landed
    assert "Confirmation email sent" not in landed  # a message left over from signing up
    again = client.get(link).content.decode()  # the link, opened once more
    assert "was used already" in again
    assert 'type="submit">Confirm<' not in again


def test_the_household_page_says_the_role_in_good_english(client, db):
    client.post(reverse("account_signup"), GOOD)
    client.post(confirmation_link(mail.outbox[0]))
    home = client.get(reverse("accounts:home")).content.decode()
    assert "Your role here: <strong>owner</strong>, who manages members, cameras and recordings." in home
    assert "you manages" not in home

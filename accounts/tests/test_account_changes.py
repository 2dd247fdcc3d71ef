"""Password reset, password change and email change: by email, and each one announced."""

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conftest import PASSWORD, World, signed_in_with_password

NEW_PASSWORD = "another sturdy passphrase 9"


def link_in(message, prefix: str) -> str:
    found = re.search(rf"https?://[^/\s]+({re.escape(prefix)}[^\s]+)", message.body)
    assert found, message.body
    return found.group(1)


def can_sign_in(email: str, password: str) -> bool:
    client = Client()
    client.post(reverse("account_login"), {"login": email, "password": password})
    return "_auth_user_id" in client.session


def test_a_password_reset_by_email(world: World):
    client = Client()
    response = client.post(reverse("account_reset_password"), {"email": "alice@a.test"})
    assert response["Location"] == reverse("account_reset_password_done")
    [message] = mail.outbox
    assert message.to == ["alice@a.test"]
    form = client.get(link_in(message, "/account/password/reset/key/"), follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert can_sign_in("alice@a.test", NEW_PASSWORD)
    assert not can_sign_in("alice@a.test", PASSWORD)
    notices = [m for m in mail.outbox[1:] if m.to == ["alice@a.test"] and "password" in m.subject.lower()]
    assert notices, [m.subject for m in mail.outbox]


def test_a_reset_for_an_unknown_address_answers_the_same(world: World):
    known = Client().post(reverse("account_reset_password"), {"email": "alice@a.test"})
    unknown = Client().post(reverse("account_reset_password"), {"email": "nobody@a.test"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    to_nobody = [m.body for m in mail.outbox if m.to == ["nobody@a.test"]]
    assert all("/account/password/reset/key/" not in body for body in to_nobody)


def test_a_used_reset_link_does_not_work_twice(world: World):
    Client().post(reverse("account_reset_password"), {"email": "alice@a.test"})
    link = link_in(mail.outbox[0], "/account/password/reset/key/")
    first = Client()
    form = first.get(link, follow=True)
    first.post(form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    again = Client().get(link, follow=True)
    assert "password1" not in again.content.decode()  # "bad token" page, no form


def test_changing_the_password_emails_and_ends_the_other_sessions(world: World):
    elsewhere = signed_in_with_password(world.a.owner, reauthenticated=False)
    here = signed_in_with_password(world.a.owner, reauthenticated=False)
    mail.outbox.clear()
    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get(reverse("accounts:home")).status_code == 200  # this session stays
    assert elsewhere.get(reverse("accounts:home"))["Location"].startswith(reverse("account_login"))
    assert [m.to for m in mail.outbox] == [["alice@a.test"]]
    assert "password" in mail.outbox[0].subject.lower()


def test_changing_the_email_confirms_the_new_address_and_tells_the_old_one(world: World):
    alice = signed_in_with_password(world.a.owner)
    mail.outbox.clear()
    response = alice.post(reverse("account_email"), {"action_add": "", "email": "alice.new@a.test"})
    assert response.status_code == 302
    [confirmation] = mail.outbox
    assert confirmation.to == ["alice.new@a.test"]
    assert User.objects.get(pk=world.a.owner.pk).email == "alice@a.test"  # not before the new one is proved
    assert alice.post(link_in(confirmation, "/account/confirm-email/")).status_code == 302
    user = User.objects.get(pk=world.a.owner.pk)
    assert user.email == "alice.new@a.test"
    assert user.email_verified_at is not None
    old = [m for m in mail.outbox[1:] if m.to == ["alice@a.test"]]
    assert len(old) == 1
    assert "email" in old[0].subject.lower()
    assert can_sign_in("alice.new@a.test", PASSWORD)
    assert not can_sign_in("alice@a.test", PASSWORD)

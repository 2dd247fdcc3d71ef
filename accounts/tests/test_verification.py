from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tasks import send_verification_email
from accounts.tests.factories import UserFactory
from accounts.verification import make_token
from conftest import client_for

SIGNUP = {
    "full_name": "Nora New",
    "email": "nora@example.test",
    "household_name": "The News",
    "password1": "a sturdy passphrase 42",
    "password2": "a sturdy passphrase 42",
}


def test_sign_up_emails_a_link_that_confirms_the_address(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("accounts:signup"), SIGNUP)
    assert len(callbacks) == 1  # the email is enqueued once the sign-up commits
    user = User.objects.get(email="nora@example.test")
    assert user.email_verified_at is None
    assert send_verification_email.apply(args=(str(user.pk),)).get() is True
    assert "Please confirm your email address" in client.get(reverse("accounts:home")).content.decode()
    [message] = mail.outbox
    link = next(line for line in message.body.splitlines() if "/verify-email/" in line)
    response = client.get(link.split("8000", 1)[1])
    assert response.status_code == 200
    assert "Email confirmed" in response.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_a_tampered_or_stale_link_is_refused(client, db):
    user = UserFactory.create(email_verified_at=None)
    token = make_token(user)
    bad = client.get(reverse("accounts:verify-email", args=[token[:-2] + "xx"]))
    assert bad.status_code == 400
    assert "This link does not work" in bad.content.decode()
    user.email = "changed@example.test"
    user.save()
    assert client.get(reverse("accounts:verify-email", args=[token])).status_code == 400
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_resending_the_link(db, django_capture_on_commit_callbacks):
    user = UserFactory.create(email_verified_at=None)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(user).post(reverse("accounts:verify-email-resend"))
    assert response.status_code == 302
    assert len(callbacks) == 1
    send_verification_email.apply(args=(str(user.pk),))
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_a_verified_user_gets_no_more_links(db):
    user = UserFactory.create()
    assert send_verification_email.apply(args=(str(user.pk),)).get() is False
    assert mail.outbox == []

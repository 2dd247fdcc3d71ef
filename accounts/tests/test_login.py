"""Signing in and out (django-allauth's views, with this site's adapter)."""

from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from conftest import PASSWORD


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_it_signs_in_with_email_and_password(client, world):
    response = sign_in(client, "alice@a.test")
    assert response.status_code == 302
    assert "Atkins family" in client.get(reverse("accounts:home")).content.decode()


def test_it_explains_a_wrong_password(client, world):
    response = sign_in(client, "alice@a.test", "nope")
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_unknown_address_gets_the_same_answer(client, world):
    wrong = sign_in(Client(), "alice@a.test", "nope").content.decode()
    unknown = sign_in(client, "nobody@a.test", "nope").content.decode()
    message = "The email address and/or password you specified are not correct."
    assert message in wrong
    assert message in unknown


def test_sign_out_is_a_post(world):
    client = Client()
    sign_in(client, "alice@a.test")
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 302


def test_home_needs_sign_in(client, db):
    response = client.get(reverse("accounts:home"))
    assert response["Location"].startswith(reverse("account_login"))


def test_a_sign_in_from_a_new_browser_is_emailed_once(world):
    browser = Client(HTTP_USER_AGENT="Firefox on a laptop", REMOTE_ADDR="127.0.0.7")
    sign_in(browser, "alice@a.test")
    [notice] = mail.outbox
    assert notice.to == ["alice@a.test"]
    assert "New sign-in" in notice.subject
    assert "127.0.0.7" in notice.body
    assert "Firefox on a laptop" in notice.body
    browser.post(reverse("account_logout"))
    sign_in(browser, "alice@a.test")  # the same browser (it kept its cookie): no second notice
    assert len(mail.outbox) == 1
    sign_in(Client(), "alice@a.test")  # another browser
    assert len(mail.outbox) == 2


def test_a_forged_browser_cookie_counts_as_a_new_browser(world):
    browser = Client()
    browser.cookies["nvr_browser"] = "forged"
    sign_in(browser, "alice@a.test")
    assert len(mail.outbox) == 1


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_passwords_are_stored_with_argon2():
    assert make_password("x").startswith("argon2")


def test_the_production_hasher_is_argon2():
    from nvr import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")

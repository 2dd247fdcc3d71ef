from django.contrib.auth.hashers import make_password
from django.test import override_settings
from django.urls import reverse

from conftest import PASSWORD


def test_it_signs_in_with_email_and_password(client, world):
    response = client.post(reverse("accounts:login"), {"username": "alice@a.test", "password": PASSWORD})
    assert response.status_code == 302
    assert "Atkins family" in client.get(reverse("accounts:home")).content.decode()


def test_it_explains_a_wrong_password(client, world):
    response = client.post(reverse("accounts:login"), {"username": "alice@a.test", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post(alice):
    assert alice.get(reverse("accounts:logout")).status_code == 405
    assert alice.post(reverse("accounts:logout")).status_code == 302
    assert alice.get(reverse("accounts:home")).status_code == 302


def test_home_needs_sign_in(client, db):
    response = client.get(reverse("accounts:home"))
    assert response["Location"].startswith(reverse("accounts:login"))


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_passwords_are_stored_with_argon2():
    assert make_password("x").startswith("argon2")


def test_the_production_hasher_is_argon2():
    from nvr import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")

"""Each person's language: chosen on their account page, else their browser's
(Accept-Language), else English; a new account starts in its browser's language; the
page says which language it is in, and caches keep languages apart."""

from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conftest import World, client_for

FRENCH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "fr-CA,fr;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


def security_page(client: Client, **headers: str):
    return client.get(reverse("accounts:security"), **headers)  # type: ignore[arg-type]


def test_the_browsers_language_applies_until_the_person_chooses_one(world: World):
    client = client_for(world.a.viewer)
    response = security_page(client, **FRENCH_BROWSER)
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr">' in response.content.decode()
    assert "Fuseau horaire" in response.content.decode()
    assert "Accept-Language" in response["Vary"]
    assert security_page(client, **ENGLISH_BROWSER)["Content-Language"] == "en"


def test_a_chosen_language_wins_over_the_browsers(world: World):
    client = client_for(world.a.viewer)
    response = client.post(reverse("accounts:language"), {"language": "fr"}, **ENGLISH_BROWSER)  # type: ignore[arg-type]
    assert response.status_code == 302
    world.a.viewer.refresh_from_db()
    assert world.a.viewer.language == "fr"
    followed = security_page(client, **ENGLISH_BROWSER)
    assert followed["Content-Language"] == "fr"
    assert "Langue enregistrée." in followed.content.decode()  # the confirmation, already in French
    client.post(reverse("accounts:language"), {"language": ""})  # back to the browser's
    world.a.viewer.refresh_from_db()
    assert world.a.viewer.language == ""
    assert security_page(client, **ENGLISH_BROWSER)["Content-Language"] == "en"


def test_an_unknown_language_is_refused_with_a_readable_error(world: World):
    client = client_for(world.a.viewer)
    response = client.post(reverse("accounts:language"), {"language": "xx"}, **FRENCH_BROWSER)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()  # Django's own message, in French
    world.a.viewer.refresh_from_db()
    assert world.a.viewer.language == ""


def test_the_language_form_offers_each_language_in_its_own_name(world: World):
    html = security_page(client_for(world.a.viewer), **FRENCH_BROWSER).content.decode()
    assert '<option value="en">English</option>' in html
    assert '<option value="fr">Français</option>' in html


def test_a_new_account_starts_in_the_language_its_browser_asked_for(db, mailoutbox):
    form = {"full_name": "Noé", "email": "noe@example.test", "household_name": "Chez Noé"}
    form |= {"password1": "une phrase de passe 42", "password2": "une phrase de passe 42"}
    response = Client().post(reverse("account_signup"), form, **FRENCH_BROWSER)  # type: ignore[arg-type]
    assert response.status_code == 302
    assert User.objects.get(email="noe@example.test").language == "fr"
    assert EmailAddress.objects.filter(email="noe@example.test").exists()
    [confirmation] = mailoutbox
    assert "Confirmez votre adresse" in confirmation.subject  # allauth's own French


def test_a_signed_out_page_follows_the_browser(db):
    response = Client().get(reverse("account_login"), **FRENCH_BROWSER)  # type: ignore[arg-type]
    assert response["Content-Language"] == "fr"

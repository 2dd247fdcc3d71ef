"""The cameras' pages, answers and scripts in French, for a French reader.

The page-wide sweep is nvr/tests/test_french_pages.py; these add the pages it cannot
reach (a push camera's token page, a member's camera access), the answers that are not
pages (the connection test, the API's refusals, the camera's status for the page's
script) and the scripts' words (the live statuses, from /jsi18n/).
"""

import html
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.models import Camera
from devices.status import status_message_text
from nvr.testing import ROOT
from nvr.tests.french import english_in, texts_of

FRENCH: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
LIVE_STATUSES = {
    "live": "en direct",
    "offline": "hors ligne",
    "connecting…": "connexion…",
    "reconnecting…": "reconnexion…",
    "last picture %(age)s ago": "dernière image il y a %(age)s",
    "waiting for a picture": "en attente d'une image",
}


def main_texts(page: str) -> list[str]:
    """The page's own content (<main>): the navigation is the base template's."""
    found = re.search(r"<main\b.*?</main>", page, re.S)
    assert found, "no <main> on the page"
    return texts_of(found.group(0))


def names_of(world: World) -> set[str]:
    people = world.a.people.values()
    return world.a.ids() | {u.display_name for u in people} | {"Shed"}


def test_a_push_cameras_token_page_is_french(world: World):
    response = client_for(world.a.owner).post(reverse("devices:camera-add"), {"name": "Shed", "kind": "push"}, **FRENCH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Copiez le jeton maintenant" in page
    # The clip upload address is the recordings app's line on the page (its own words).
    assert english_in(main_texts(page), names=names_of(world) | _endpoint_words()) == []


def _endpoint_words() -> set[str]:
    from devices.extensions import device_endpoints

    return {str(text) for e in device_endpoints() for text in (e.label, e.help) if text}


def test_a_members_camera_access_page_is_french(world: World):
    url = reverse("devices:camera-access", kwargs={"membership_id": world.a.memberships[Role.MEMBER].pk})
    response = client_for(world.a.owner).get(url, **FRENCH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Seulement les caméras cochées ci-dessous" in page
    role = str(world.a.memberships[Role.MEMBER].get_role_display()).lower()  # the accounts app's word
    assert english_in(main_texts(page), names=names_of(world) | {role}) == []


def test_the_connection_test_answers_in_the_readers_language(world: World, settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []  # a home network nobody allowed: refused before connecting
    fields = {"preset": "hikvision", "host": "192.168.1.64", "channel": "1", "stream": "main"}
    owner = client_for(world.a.owner)
    french = owner.post(reverse("devices:camera-test"), fields, **FRENCH).json()
    english = owner.post(reverse("devices:camera-test"), fields).json()
    assert (french["outcome"], french["message"]) == ("not_allowed", "Cette adresse n'est pas autorisée.")
    assert (english["outcome"], english["message"]) == ("not_allowed", "This address is not allowed.")


def test_a_form_error_is_french(world: World):
    response = client_for(world.a.owner).post(
        reverse("devices:camera-add"), {"name": "Gate", "kind": "pull", "preset": "hikvision"}, **FRENCH
    )
    assert response.status_code == 400
    assert "Saisissez l'adresse de la caméra" in html.unescape(response.content.decode())


def test_an_api_refusal_is_french_for_a_french_user(world: World):
    owner = world.a.owner
    owner.language = "fr"
    owner.save(update_fields=["language"])
    api = APIClient()
    api.force_login(owner)
    url = reverse("devices-api:camera-access", kwargs={"membership_id": world.a.memberships[Role.MEMBER].pk})
    missing = "00000000-0000-4000-8000-000000000000"
    response = api.put(url, {"limited": True, "cameras": [missing]}, format="json")  # no Accept-Language
    assert response.status_code == 400
    assert response.json()["cameras"] == [f"Caméra introuvable\u00a0: {missing}."]


def test_the_confirmation_to_delete_a_camera_is_french(world: World):
    camera = world.a.cameras[0]
    response = client_for(world.a.owner).get(reverse("devices:camera-delete", args=[camera.pk]), **FRENCH)
    page = response.content.decode()
    assert "Supprimer la caméra et ses enregistrements" in page
    assert "supprimés définitivement" in page


def test_the_workers_status_sentence_is_shown_in_the_readers_language(world: World):
    camera = world.a.cameras[0]
    with account_scope(world.a.account.pk):
        Camera.objects.filter(pk=camera.pk).update(
            status="error", status_message="Cannot reach the camera; retrying in 4 s."
        )
    client = client_for(world.a.owner)
    page = client.get(reverse("devices:camera", args=[camera.pk]), **FRENCH).content.decode()
    assert "Impossible de joindre la caméra\u00a0; nouvel essai dans 4 s." in page
    status = client.get(reverse("devices:camera-status", args=[camera.pk]), **FRENCH).json()
    assert status["status_message"].startswith("Impossible de joindre la caméra")
    assert client.get(reverse("devices:camera-status", args=[camera.pk])).json()["status_message"] == (
        "Cannot reach the camera; retrying in 4 s."
    )


def test_an_unknown_status_sentence_is_shown_as_it_is():
    with translation.override("fr"):
        assert status_message_text("Camera says: lens dirty") == "Camera says: lens dirty"
        assert status_message_text("") == ""
        assert status_message_text("The stream ended") == "Le flux s'est arrêté"


def test_the_live_statuses_are_translated_in_the_scripts_catalogue():
    po = (ROOT / "locale" / "fr" / "LC_MESSAGES" / "djangojs.po").read_text()
    for english, french in LIVE_STATUSES.items():
        assert f'msgid "{english}"\nmsgstr "{french}"' in po, english


def catalogue(client: Client, **headers: Any) -> dict[str, str]:
    """The strings /jsi18n/ hands the page's scripts (its JSON object, read back)."""
    script = client.get(reverse("javascript-catalog"), **headers).content.decode()
    found = re.search(r"const newcatalog = (\{.*?\});", script, re.S)
    assert "django.gettext" in script or "gettext" in script
    return json.loads(found.group(1)) if found else {}  # English: no catalogue, the scripts' own words


@pytest.mark.django_db
def test_the_scripts_catalogue_gives_the_live_statuses_in_french():
    french, english = catalogue(Client(), **FRENCH), catalogue(Client())
    for word, translated in LIVE_STATUSES.items():
        assert french.get(word) == translated, word
        assert word not in english, word  # English: the script's own words

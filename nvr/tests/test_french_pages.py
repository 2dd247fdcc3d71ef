"""Every page in French: a browser asking for French gets no English from the catalogues
and no unmarked English sentence (nvr/tests/french.py says how both are found).

The browser test (test_browser_french.py) adds what the pages' scripts write.
"""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import World, client_for, main_pages, staff_client
from nvr.tests.french import english_in, texts_of, translations

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
SIGNED_OUT_PAGES = {
    "sign in": reverse("account_login"),
    "sign up": reverse("account_signup"),
    "password reset": reverse("account_reset_password"),
    "not found": "/no/such/page/",
}


def english_on_pages(client: Client, pages: dict[str, str], names: set[str]) -> list[str]:
    found = []
    for name, path in pages.items():
        response = client.get(path, **FRENCH)  # type: ignore[arg-type]
        assert response.status_code in {200, 404}, f"{name}: {path} answered {response.status_code}"
        assert response["Content-Language"] == "fr", name
        found += [
            f"{name} ({path}): {problem}" for problem in english_in(texts_of(response.content.decode()), names=names)
        ]
    return found


def household_names(world: World) -> set[str]:
    people = [*world.a.people.values(), *world.b.people.values()]
    return (
        world.a.ids()
        | {u.display_name for u in people}
        | {c.name for c in world.a.cameras}
        | {"NVR"}  # the product's name
    )


@pytest.mark.usefixtures("world_with_clips")
def test_every_main_page_is_french_for_a_browser_asking_for_french(world: World):
    found = english_on_pages(client_for(world.a.owner), main_pages(world.a), household_names(world))
    assert found == [], "\n".join(found)


@pytest.mark.django_db
def test_signed_out_pages_are_french():
    found = english_on_pages(Client(), SIGNED_OUT_PAGES, {"NVR"})
    assert found == [], "\n".join(found)


@pytest.mark.usefixtures("world_with_clips")
def test_support_staff_pages_are_french(world: World):
    client = staff_client("support")
    pages = {"support viewer": reverse("support:grants"), "support admin": reverse("admin:index")}
    found = english_on_pages(client, pages, household_names(world))
    assert found == [], "\n".join(found)


def test_the_check_finds_catalogue_english_and_unmarked_english():
    """The nets are not vacuous: a catalogue string left in English and unmarked English
    sentences are each caught; French, scripts and a household's own names are not."""
    english, _french = next((e, f) for e, f in translations().items() if "%(" not in e and e.lower() != f.lower())
    html = (
        f"<main><p>{english}</p><p>Rien à signaler.</p><p>Your camera is offline.</p>"
        '<p translate="no">The Smiths</p><button title="Open the clip">▶</button>'
        "<script>var x = 'the script is not text';</script><p>Porch of the house</p></main>"
    )
    found = english_in(texts_of(html), names={"Porch of the house"})
    assert len(found) == 3, found
    assert "catalogue's English" in found[0]
    assert "'Your camera is offline.' has the English word 'Your'" in found[1]
    assert "'Open the clip' has the English word 'the'" in found[2]

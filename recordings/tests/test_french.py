"""Recordings in French: the pages of this app (what they put in <title> and <main>; the
shared header is checked by nvr/tests/test_french_pages.py), their errors, sizes and
dates, and the timeline script's words from the scripts' catalogue."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.models import User
from conftest import World, client_for
from nvr.tests.french import english_in, texts_of
from nvr.tests.test_french_pages import FRENCH, household_names
from recordings.tests.factories import make_share_link

NBSP = "\u00a0"


def own_parts(html: str) -> str:
    """The page's title and main content: what this app's templates write."""
    title = re.search(r"<title>.*?</title>", html, re.S)
    main = re.search(r"<main\b.*?</main>", html, re.S)
    assert title is not None
    assert main is not None
    return title.group(0) + main.group(0)


def english_on(world: World, client: Client, pages: dict[str, str]) -> list[str]:
    found = []
    for name, path in pages.items():
        response = client.get(path, **FRENCH)  # type: ignore[arg-type]
        assert response.status_code == 200, f"{name}: {path} answered {response.status_code}"
        texts = texts_of(own_parts(response.content.decode()))
        found += [f"{name} ({path}): {problem}" for problem in english_in(texts, names=household_names(world))]
    return found


def test_the_recordings_pages_and_share_links_are_french(world: World):
    _link, secret = make_share_link(world.a)  # listed on the clip page and the links page
    clip, camera = world.a.recordings[0], world.a.cameras[0]
    owner = client_for(world.a.owner)
    pages = {
        "timeline": f"{reverse('recordings:timeline')}?camera={camera.pk}",
        "all cameras timeline": f"{reverse('recordings:timeline')}?all=1",
        "clip player": reverse("recordings:clip", args=[clip.pk]),
        "events": reverse("recordings:events"),
        "events of a day with none": f"{reverse('recordings:events')}?day=2026-01-05&camera={camera.pk}",
        "storage": reverse("recordings:storage"),
        "notifications": reverse("notifications:settings"),
        "shares": reverse("recordings:shares"),
        "share form": reverse("recordings:clip-share", args=[clip.pk]),
    }
    found = english_on(world, owner, pages)
    created = owner.post(
        reverse("recordings:clip-share", args=[clip.pk]),
        {"expires": "7d", "household": str(world.a.account.pk)},
        **FRENCH,  # type: ignore[arg-type]
    )
    assert created.status_code == 200
    found += [f"share created: {p}" for p in english_in(texts_of(own_parts(created.content.decode())))]
    public = Client().get(reverse("shared:page", kwargs={"token": secret}), **FRENCH)  # type: ignore[arg-type]
    assert public.status_code == 200
    assert public.content.decode().count('<html lang="fr">') == 1
    found += [f"shared clip: {p}" for p in english_in(texts_of(own_parts(public.content.decode())))]
    assert found == [], "\n".join(found)


def test_dates_sizes_and_counts_are_written_the_french_way(world: World):
    make_share_link(world.a)
    clip = world.a.recordings[0]
    owner = client_for(world.a.owner)
    with translation.override("fr"):
        started = formats.date_format(timezone.localtime(clip.started_at), "DATETIME_FORMAT")
    page = owner.get(reverse("recordings:clip", args=[clip.pk]), **FRENCH).content.decode()  # type: ignore[arg-type]
    assert f"· {started}</h1>" in page
    assert "ouvert 0\u00a0fois" in page
    storage = owner.get(reverse("recordings:storage"), **FRENCH).content.decode()  # type: ignore[arg-type]
    assert "sur 20 Go</strong> utilisés" in storage
    assert "Quota de stockage (Go)" in storage


def test_a_french_speaker_gets_errors_in_french_whatever_the_browser(world: World):
    User.objects.filter(pk=world.a.member.pk).update(language="fr")
    member = client_for(world.a.member)
    bad_day = member.get(reverse("recordings:events"), {"day": "1999-01-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad_day.status_code == 400
    assert bad_day.content.decode() == "Le jour doit être une date comme 2026-11-30, du 2000-01-01 à demain."
    api = member.get(reverse("recordings-api:event-list"), {"cursor": "forged"}, HTTP_ACCEPT_LANGUAGE="en")
    assert api.status_code == 400
    assert api.json()["cursor"] == [
        f"Curseur non valide{NBSP}: utilisez tel quel le lien 'next' ou 'previous' d'une page."
    ]
    # And an English speaker, whatever their browser, gets English.
    User.objects.filter(pk=world.a.owner.pk).update(language="en")
    english = client_for(world.a.owner).get(reverse("recordings:events"), {"day": "1999-01-01"}, **FRENCH)  # type: ignore[arg-type]
    assert english.content.decode().startswith("The day must be a date like 2026-11-30")


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("Nothing recorded at %(time)s.", "Rien n'a été enregistré à %(time)s."),
        ("Next recording at %(time)s", "Enregistrement suivant à %(time)s"),
        ("motion at %(time)s", "mouvement à %(time)s"),
    ],
)
def test_the_timeline_scripts_words_come_from_the_catalogue_in_the_pages_language(
    world: World, english: str, french: str
):
    def catalogue(language: str) -> dict[str, str]:
        script = Client().get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        found = re.search(r"const newcatalog = (\{.*?\});", script, re.S)
        return json.loads(found.group(1)) if found else {}

    assert catalogue("fr")[english] == french
    assert english not in catalogue("en")  # English: gettext() gives the msgid back
    timeline = (client_for(world.a.owner).get(f"{reverse('recordings:timeline')}?all=1", **FRENCH)).content.decode()  # type: ignore[arg-type]
    assert timeline.index(reverse("javascript-catalog")) < timeline.index("js/timeline.js")
    assert '<html lang="fr">' in timeline  # what timeline.js formats times for (Intl)


def test_every_word_timeline_js_writes_is_in_the_scripts_catalogue():
    """The script writes words only through gettext(): each is a translated entry."""
    from nvr.testing import ROOT
    from nvr.tests.french import translations

    script = (ROOT / "static" / "js" / "timeline.js").read_text()
    words = re.findall(r'gettext\("([^"]+)"\)', script)
    assert len(words) >= 8
    assert [w for w in words if w not in translations()] == []
    # No sentence is glued together from English pieces any more.
    assert re.search(r'"[^"]*\b(Nothing|recorded|Next|at|by)\b[^"]*"\s*\+', script) is None


def test_a_cameras_upload_refusal_is_in_the_language_its_request_asks_for(world: World):
    from tools.upload_testing import clip_bytes, create

    data = clip_bytes(1000)
    french = create(world.a.tokens[0], data, body=data, tus="0.2.2", client=Client(HTTP_ACCEPT_LANGUAGE="fr"))
    assert french.status_code == 412
    assert french.json()["detail"] == f"Ce serveur parle tus 1.0.0{NBSP}: envoyez 'Tus-Resumable: 1.0.0'."
    english = create(world.a.tokens[0], data, body=data, tus="0.2.2")  # a camera asks for no language
    assert english.json()["detail"] == "This server speaks tus 1.0.0: send 'Tus-Resumable: 1.0.0'."

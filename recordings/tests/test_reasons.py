"""The sentences processing stores about a clip, shown in the reader's language.

The worker stores the English sentence (the API and the logs keep it) and its msgid
and parameters next to it; pages translate those for the reader, and show the
stored English for rows from before, or when what was kept cannot be rendered.
"""

import html
import json
import pickle
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.tenancy import account_scope
from conftest import World, client_for
from nvr.tests.test_french_pages import FRENCH
from recordings.models import Recording, RecordingStatus
from recordings.processing import warning, warning_reason
from recordings.selectors import reason_text
from recordings.tests.test_clip_kinds import upload
from recordings.tests.test_processing import fetch, run, uploaded
from recordings.video import reasons
from recordings.video.isolate import _interpret
from recordings.video.results import Gap, VideoError

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def page(client: Client, recording: Recording, language: dict[str, str]) -> str:
    response = client.get(reverse("recordings:clip", kwargs={"recording_id": recording.pk}), **language)  # type: ignore[arg-type]
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def api_fields(client: Client, recording: Recording) -> tuple[object, object]:
    response = client.get(reverse("recordings-api:recording-detail", kwargs={"pk": recording.pk}), **FRENCH)  # type: ignore[arg-type]
    data = json.loads(response.content)
    return data["failure_reason"], data["warning"]


@pytest.mark.parametrize(
    ("case", "english", "french"),
    [
        ("audio_only", "the file is audio only, with no video", "le fichier ne contient que du son, sans vidéo"),
        ("html", "the file is an HTML page, not a video", "le fichier est une page HTML, pas une vidéo"),
    ],
)
def test_a_failed_clip_says_why_in_the_readers_language(world: World, case: str, english: str, french: str):
    """Real processing; the page in French or English; the API and the stored column stay English."""
    recording = uploaded(world.a.cameras[0], upload(case))
    assert run(recording) == RecordingStatus.FAILED
    failed = fetch(recording)
    assert failed.failure_reason == english

    viewer = client_for(world.a.viewer)
    assert f"Ce clip n'a pas pu être traité : {french}" in page(viewer, failed, FRENCH).replace("\u00a0", " ")
    in_english = page(viewer, failed, ENGLISH)
    assert f"This clip could not be processed: {english}" in in_english
    assert french not in in_english
    assert api_fields(viewer, failed) == (english, "")
    video = viewer.get(reverse("recordings:clip-video", kwargs={"recording_id": failed.pk}), **FRENCH)  # type: ignore[arg-type]
    assert video.status_code == 409
    assert french in video.content.decode()


def test_a_warning_is_shown_in_the_readers_language(world: World):
    """Sound left out of a Matroska clip: READY, and the page's warning translated, phrase included."""
    recording = uploaded(world.a.cameras[0], upload("matroska_pcm"))
    assert run(recording) == RecordingStatus.READY
    done = fetch(recording)
    english = "the sound was left out: browsers cannot play its format"
    assert done.warning == english

    viewer = client_for(world.a.viewer)
    french = page(viewer, done, FRENCH).replace("\u00a0", " ")
    assert "le son a été retiré : les navigateurs ne savent pas lire son format" in french
    assert english not in french
    assert f"Part of this clip is missing: {english}." in page(viewer, done, ENGLISH)
    assert api_fields(viewer, done) == ("", english)


def test_a_row_from_before_shows_its_stored_english(world: World):
    """No msgid kept (rows processed before it was): the stored sentence, on the clip page and the timeline."""
    camera = world.a.cameras[0]
    recording = uploaded(camera, upload("audio_only"))
    with account_scope(camera.account_id):
        Recording.objects.filter(pk=recording.pk).update(
            status=RecordingStatus.FAILED, failure_reason="the clip is empty", reasons_json=None
        )
    owner = client_for(world.a.owner)
    assert "the clip is empty" in page(owner, fetch(recording), FRENCH)
    timeline = owner.get(f"{reverse('recordings:timeline')}?camera={camera.pk}", **FRENCH)  # type: ignore[arg-type]
    assert "the clip is empty" in html.unescape(timeline.content.decode())


def test_a_damage_warning_is_translated_with_its_numbers_and_spans():
    """Spans, "and", "more" and decimals in the reader's language; the English is exactly ``warning``'s."""
    gaps = [Gap(1.0, 1.5), Gap(2.0, 2.5), Gap(3.0, 3.5), Gap(4.0, 4.5), Gap(5.0, 5.25)]
    notes = ["the sound was left out: browsers cannot play G.711 A-law sound"]
    described = warning_reason(notes, gaps)
    english = warning(notes, gaps)
    recording = Recording(warning=english, reasons_json=json.dumps({"warning": described}))
    with translation.override("en"):
        assert reason_text(recording, "warning") == english
    with translation.override("fr"):
        french = reason_text(recording, "warning").replace("\u00a0", " ")
    assert french == (
        "2,2 s de vidéo n'ont pas pu être décodées (5 passages endommagés : de 1,0 à 1,5 s, de 2,0 à 2,5 s, "
        "de 3,0 à 3,5 s et 2 autres après le début du clip) ; "
        "le son a été retiré : les navigateurs ne savent pas lire le son G.711 loi A"
    )


@pytest.mark.parametrize(
    "kept",
    [
        "not json",
        json.dumps({"failure": {"msgid": "an English sentence of someone else's", "params": {}}}),
        json.dumps({"failure": {"msgid": reasons.TIMEOUT, "params": {"minutes": "3"}}}),
        json.dumps({"failure": {"msgid": reasons.TIMEOUT, "params": {"seconds": ["3"]}}}),
        json.dumps(["a list"]),
    ],
)
def test_what_cannot_be_rendered_shows_the_stored_english(kept: str):
    recording = Recording(failure_reason="analysis took longer than 3 s", reasons_json=kept)
    with translation.override("fr"):
        assert reason_text(recording, "failure") == "analysis took longer than 3 s"


def test_every_sentence_and_phrase_has_a_french_translation_with_the_same_placeholders():
    placeholder = re.compile(r"%\((\w+)\)s")
    with translation.override("fr"):
        for msgid in sorted(reasons.CATALOGUE | reasons.PHRASES):
            french = translation.gettext(msgid)
            assert french != msgid, msgid
            assert set(placeholder.findall(french)) == set(placeholder.findall(msgid)), msgid


def test_a_video_error_carries_its_msgid_and_parameters_even_pickled():
    error = VideoError(reasons.TIMEOUT, "timeout", seconds="30")
    assert str(error) == "analysis took longer than 30 s"
    expected = {"msgid": reasons.TIMEOUT, "params": {"seconds": "30"}}
    assert error.described == expected
    assert pickle.loads(pickle.dumps(error)).described == expected  # noqa: S301 - our own object
    assert VideoError("the clip is empty").described == {"msgid": reasons.EMPTY, "params": {}}
    assert VideoError("something the catalogue does not know").described is None


def test_the_isolated_processs_sentence_gets_a_msgid_only_from_the_catalogue():
    """The child parsed a hostile file: its words are English to show, never a msgid taken on trust."""

    def answer(text: str) -> VideoError:
        outcome = json.dumps({"ok": False, "kind": "invalid", "reason": text}).encode()
        with pytest.raises(VideoError) as caught:
            _interpret(0, outcome, "", timeout_s=10, cpu_s=20, memory_mb=512)
        return caught.value

    known = answer("the file looks like a WebM file but could not be read")
    assert known.described == {"msgid": reasons.UNREADABLE_CONTAINER, "params": {"container": "a WebM file"}}
    assert answer("%(x)s and a stranger's words").described is None
    assert (
        answer(f"the file is a raw {'x' * 500} stream without a container, so its timing is unknown").described is None
    )

"""Clips as cameras make them (issue 12): each case is generated here, processed by the real task and checked.

Damage in the middle, MPEG-TS, Matroska, WebM, a JPEG, an HTML page, audio only,
H.265, 10-bit and 4:4:4 H.264, MPEG-4 Part 2 and a raw H.264 stream: the
outcome (READY or FAILED, remuxed or kept, marked "download to play"), the
exact words the household reads, and the worker's health afterwards (the next
household's ordinary clip still processes).
"""

import functools
import hashlib
import json
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from conftest import World, client_for
from recordings import files
from recordings.models import RecordingStatus
from recordings.tests.test_processing import clip, events, fetch, run, stored, uploaded
from recordings.video.faststart import moov_before_mdat
from recordings.video.sniff import MATROSKA, MP4, MPEGTS, WEBM, identify
from tools import synth

pytestmark = pytest.mark.django_db

UNTIMED = "without a container, so its timing is unknown"
NOT_PLAYABLE = "video, which web browsers cannot play; download it to watch it in a player such as VLC"
DAMAGE = re.compile(
    r"^(\d+\.\d) s of video could not be decoded \(a damaged stretch, at (\d+\.\d) to (\d+\.\d) s into the clip\)$"
)


def _made(suffix: str, make: Callable[[Path], None]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"clip{suffix}"
        make(path)
        return path.read_bytes()


def _small(
    *, codec: str = "libx264", pixel_format: str = "yuv420p", container: str = "mp4", audio: str = ""
) -> Callable[[Path], None]:
    """A 2 s, 320x180, 10 fps clip with motion from 0.5 s to 1.5 s, in the given codec and container."""

    def make(path: Path) -> None:
        synth.make_clip(
            path,
            seconds=2,
            fps=10,
            width=320,
            height=180,
            motion=[(0.5, 1.5)],
            codec=codec,
            pixel_format=pixel_format,
            container=container,
            audio=audio,
        )

    return make


def _damaged(path: Path) -> None:
    """6 s with motion throughout, index at the end, 15 % of the file zeroed from 45 %: frames in it are lost."""
    whole = path.with_name("whole.mp4")
    synth.make_clip(whole, seconds=6, fps=10, width=320, height=180, motion=[(0.2, 5.8)], faststart=False)
    synth.make_damaged_copy(whole, path, start=0.45, end=0.6)


CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "damaged": (".mp4", _damaged),
    "mpegts": (".ts", _small(container="mpegts")),
    "matroska": (".mkv", _small(container="matroska", audio="aac")),
    "matroska_pcm": (".mkv", _small(container="matroska", audio="pcm_s16le")),
    "webm_vp9": (".webm", _small(container="webm", codec="libvpx-vp9")),
    "webm_vp8": (".webm", _small(container="webm", codec="libvpx", audio="libopus")),
    "jpeg": (".jpg", synth.make_jpeg),
    "html": (".html", synth.make_html_page),
    "audio_only": (".m4a", synth.make_audio_only),
    "h265": (".mp4", _small(codec="libx265")),
    "h264_10bit": (".mp4", _small(pixel_format="yuv420p10le")),
    "h264_444": (".mp4", _small(pixel_format="yuv444p")),
    "mpeg4_part2": (".mp4", _small(codec="mpeg4")),
    "raw_h264": (".h264", _small(container="h264")),
}


@functools.cache
def upload(case: str) -> bytes:
    suffix, make = CASES[case]
    return _made(suffix, make)


def still_serving(world: World) -> None:
    """The worker's health: the next household's ordinary clip ends READY."""
    assert run(uploaded(world.b.cameras[0], clip())) == RecordingStatus.READY


def is_index_first_mp4(data: bytes) -> bool:
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(data)
        file.flush()
        return identify(data[:4096]).kind == MP4 and moov_before_mdat(file.name)


def api(client: Client, recording_id: object) -> dict[str, object]:
    response = client.get(reverse("recordings-api:recording-detail", kwargs={"pk": recording_id}))
    assert response.status_code == 200, response.content
    data: dict[str, object] = json.loads(response.content)
    return data


# --- 1. damage is not the end ---------------------------------------------------------


def test_it_keeps_a_clip_with_a_damaged_stretch_and_says_what_was_lost(world: World):
    """READY with a warning naming how much and where; duration and motion run past the damage to the end."""
    recording = uploaded(world.a.cameras[0], upload("damaged"))

    assert run(recording) == RecordingStatus.READY
    done = fetch(recording)
    assert (done.failure_reason, done.playable_in_browser, done.has_thumbnail) == ("", True, True)
    match = DAMAGE.match(done.warning)
    assert match, done.warning
    lost, start, end = (float(value) for value in match.groups())
    assert 0.3 <= lost <= 2.5
    assert lost == pytest.approx(end - start, abs=0.11)
    assert 1.0 < start < end < 5.0  # in the middle, not at the end
    assert done.duration_s == pytest.approx(6.0, abs=0.2)  # the frames after the damage count
    offsets = [(event.ended_at - done.started_at).total_seconds() for event in events(done)]
    assert offsets
    assert max(offsets) > end + 1.0  # motion is found after the damaged stretch
    still_serving(world)


def test_it_reports_a_clip_cut_off_after_its_index_and_keeps_what_is_there(world: World):
    """An MP4 cut off after its index is rewritten with the frames present; the warning says what is missing."""
    whole = _made(".mp4", lambda path: synth.make_clip(path, seconds=6, fps=10, width=320, height=180))
    recording = uploaded(world.a.cameras[0], whole[: int(len(whole) * 0.6)])

    assert run(recording) == RecordingStatus.READY
    done = fetch(recording)
    assert re.fullmatch(
        r"the file was cut off: its last (\d+\.\d) s \(from (\d+\.\d) to 6\.0 s into the clip\) are missing",
        done.warning,
    ), done.warning
    assert done.duration_s is not None
    assert 1.0 < done.duration_s < 5.0
    assert is_index_first_mp4(stored(done))
    still_serving(world)


# --- 2. containers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "found", "warning"),
    [
        ("mpegts", MPEGTS, ""),
        ("matroska", MATROSKA, ""),
        ("matroska_pcm", MATROSKA, "the sound was left out: browsers cannot play its format"),
    ],
)
def test_it_remuxes_mpegts_and_matroska_to_mp4_without_re_encoding(world: World, case: str, found: str, warning: str):
    """Stored as an index-first MP4 with the same number of frames; size and SHA-256 follow the new file."""
    original = upload(case)
    assert identify(original[:4096]).kind == found
    recording = uploaded(world.a.cameras[0], original)

    assert run(recording) == RecordingStatus.READY
    done = fetch(recording)
    data = stored(done)
    assert is_index_first_mp4(data)
    assert (done.container, done.codec, done.playable_in_browser, done.warning) == ("mp4", "h264", True, warning)
    assert (done.size_bytes, done.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert done.upload_sha256 == hashlib.sha256(original).hexdigest()
    assert done.duration_s == pytest.approx(2.0, abs=0.15)
    assert len(events(done)) == 1
    still_serving(world)


@pytest.mark.parametrize("case", ["webm_vp9", "webm_vp8"])
def test_it_keeps_webm_as_uploaded_and_serves_it_as_webm(world: World, case: str):
    """Browsers play WebM natively: kept bit for bit, served as video/webm, downloaded as .webm."""
    original = upload(case)
    assert identify(original[:4096]).kind == WEBM
    recording = uploaded(world.a.cameras[0], original)

    assert run(recording) == RecordingStatus.READY
    done = fetch(recording)
    assert stored(done) == original
    assert (done.container, done.playable_in_browser, done.warning) == ("webm", True, "")
    owner = client_for(world.a.owner)
    video = owner.get(reverse("recordings:clip-video", kwargs={"recording_id": done.pk}))
    assert video["Content-Type"] == "video/webm"
    download = owner.get(reverse("recordings:clip-download", kwargs={"recording_id": done.pk}))
    assert download["Content-Disposition"].endswith('.webm"')
    still_serving(world)


# --- 2 and 3. what is refused, in words -------------------------------------------------


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("jpeg", "the file is a JPEG image, not a video"),
        ("html", "the file is an HTML page, not a video"),
        ("audio_only", "the file is audio only, with no video"),
        ("raw_h264", f"the file is a raw H.264 stream {UNTIMED}"),
    ],
)
def test_it_refuses_what_is_not_a_clip_naming_what_it_is(world: World, case: str, reason: str):
    """FAILED with the exact sentence; no poster, no motion; the upload stays for download; the worker goes on."""
    recording = uploaded(world.a.cameras[0], upload(case))

    started = time.monotonic()
    assert run(recording) == RecordingStatus.FAILED
    assert time.monotonic() - started < 5
    failed = fetch(recording)
    assert failed.failure_reason == reason
    assert (failed.has_thumbnail, failed.has_motion, events(failed)) == (False, False, [])
    assert not files.clip_storage.exists(account_id=failed.account_id, object_id=failed.pk, kind=files.THUMBNAIL)
    assert stored(failed) == upload(case)
    still_serving(world)


def test_it_never_shows_raw_bytes_for_a_matroska_file_it_cannot_read(world: World):
    """Was: "the file is not a valid MP4 (box '£B\\x86\\x81' at 0 has an impossible size 440786851)"."""
    broken = upload("matroska")[:200]  # the EBML header, then nothing usable
    recording = uploaded(world.a.cameras[0], broken)

    assert run(recording) == RecordingStatus.FAILED
    assert fetch(recording).failure_reason == "the file looks like a Matroska file but could not be read"
    still_serving(world)


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "the file is a PNG image, not a video"),
        (b"%PDF-1.7\n", "the file is a PDF document, not a video"),
        (b"ID3\x04\x00" + bytes(40), "the file is audio only, with no video"),
        (b"\xff\xf1\x50\x80" + bytes(40), "the file is audio only, with no video"),  # AAC (ADTS)
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "the file is audio only, with no video"),
        (b"  \n<html><body>Not found</body></html>", "the file is an HTML page, not a video"),
        (b"error: no such clip\n", "the file is a text file, not a video"),
        (
            b"\x00\x00\x00\x01\x40\x01\x0c\x01",
            "the file is a raw H.265 stream without a container, so its timing is unknown",
        ),
        (bytes(range(256)) * 4, "the file is not a video file"),
    ],
)
def test_it_names_what_other_files_are(head: bytes, reason: str):
    found = identify(head)
    assert (found.kind, found.reason) == ("", reason)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x18ftypisom", MP4),
        ((b"\x47" + bytes(187)) * 3, MPEGTS),
        ((bytes(4) + b"\x47" + bytes(187)) * 3, MPEGTS),  # M2TS: a 4-byte timestamp before each packet
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", MATROSKA),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", WEBM),
    ],
)
def test_it_recognises_the_containers_it_accepts(head: bytes, kind: str):
    assert identify(head).kind == kind


# --- 4. playable or marked --------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "codec", "what"),
    [
        ("h265", "hevc", "H.265 (HEVC)"),
        ("h264_10bit", "h264", "10-bit H.264 (High 10)"),
        ("h264_444", "h264", "full-colour (4:4:4) H.264"),
        ("mpeg4_part2", "mpeg4", "MPEG-4 Part 2"),
    ],
)
def test_it_marks_a_clip_browsers_cannot_play_download_to_play(world: World, case: str, codec: str, what: str):
    """READY, kept bit for bit, with motion and a poster; the API and the player say "download to play"."""
    original = upload(case)
    recording = uploaded(world.a.cameras[0], original)

    assert run(recording) == RecordingStatus.READY
    done = fetch(recording)
    reason = f"the clip is {what} {NOT_PLAYABLE}"
    assert (done.playable_in_browser, done.not_playable_reason, done.codec) == (False, reason, codec)
    assert stored(done) == original  # not transcoded: the original, bit for bit
    assert (done.has_thumbnail, len(events(done))) == (True, 1)

    viewer = client_for(world.a.viewer)
    data = api(viewer, done.pk)
    assert (data["playable_in_browser"], data["not_playable_reason"], data["warning"]) == (False, reason, "")
    listed = json.loads(viewer.get(reverse("recordings-api:recording-list")).content)["results"]
    assert next(item for item in listed if item["id"] == str(done.pk))["playable_in_browser"] is False
    page = viewer.get(reverse("recordings:clip", kwargs={"recording_id": done.pk})).content.decode()
    assert "<video" not in page
    assert "Download to play." in page
    assert reason in page
    assert reverse("recordings:clip-download", kwargs={"recording_id": done.pk}) in page
    still_serving(world)


def test_it_shows_a_playable_clip_in_the_player_and_a_damaged_one_with_its_warning(world: World):
    recording = uploaded(world.a.cameras[0], upload("damaged"))
    assert run(recording) == RecordingStatus.READY
    done = fetch(recording)

    viewer = client_for(world.a.viewer)
    data = api(viewer, done.pk)
    assert (data["playable_in_browser"], data["not_playable_reason"], data["warning"]) == (True, "", done.warning)
    assert data["container"] == "mp4"
    page = viewer.get(reverse("recordings:clip", kwargs={"recording_id": done.pk})).content.decode()
    assert "<video" in page
    assert f"Part of this clip is missing: {done.warning}." in page

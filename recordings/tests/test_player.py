"""The clip player page, and deleting a clip from the portal."""

from datetime import timedelta

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.confirm import CONFIRMED
from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.models import CameraKind
from devices.services import camera_create
from recordings import files
from recordings.models import Recording, RecordingStatus
from recordings.tests.factories import make_recording


def player(recording: Recording) -> str:
    return reverse("recordings:clip", kwargs={"recording_id": recording.pk})


def delete(recording: Recording) -> str:
    return reverse("recordings:clip-delete", kwargs={"recording_id": recording.pk})


def test_it_plays_a_ready_clip_with_its_motion_events(vera: Client, world: World):
    recording = world.a.recordings[0]
    response = vera.get(player(recording))
    assert response.status_code == 200
    page = response.content.decode()
    video = reverse("recordings:clip-video", kwargs={"recording_id": recording.pk})
    assert f'src="{video}"' in page
    assert 'preload="metadata"' in page
    assert "controls" in page
    assert 'data-seek="0.500"' in page  # the motion event starts 0.5 s into the clip
    assert reverse("recordings:clip-download", kwargs={"recording_id": recording.pk}) in page
    assert "js/player.js" in page


def test_it_links_the_previous_and_next_clip_of_the_same_camera(vera: Client, world: World):
    camera = world.a.cameras[0]
    ready, processing = world.a.recordings
    with account_scope(world.a.account.pk):
        later = make_recording(camera, started_at=ready.started_at + timedelta(minutes=1))
        garden, _ = camera_create(actor=world.a.memberships["owner"], name="Garden", kind=CameraKind.PUSH)
        elsewhere = make_recording(garden, started_at=ready.started_at + timedelta(seconds=10))
    context = vera.get(player(ready)).context
    assert context["previous"] == processing
    assert context["following"] == later
    page = vera.get(player(ready)).content.decode()
    assert player(processing) in page
    assert player(later) in page
    assert player(elsewhere) not in page
    assert vera.get(player(processing)).context["previous"] is None
    assert vera.get(player(later)).context["following"] is None


def test_clips_starting_at_the_same_instant_are_all_reachable(vera: Client, world: World):
    camera = world.a.cameras[0]
    at = timezone.now() - timedelta(days=3)
    with account_scope(world.a.account.pk):
        twins = sorted([make_recording(camera, started_at=at, motion=False) for _ in range(3)], key=lambda r: r.pk)
    assert vera.get(player(twins[0])).context["following"] == twins[1]
    assert vera.get(player(twins[1])).context["following"] == twins[2]
    assert vera.get(player(twins[2])).context["previous"] == twins[1]


def test_a_clip_not_ready_shows_its_status_instead_of_a_video(vera: Client, world: World):
    processing = world.a.recordings[1]
    page = vera.get(player(processing)).content.decode()
    assert "<video" not in page
    assert "still being processed" in page
    with account_scope(world.a.account.pk):
        Recording.objects.filter(pk=processing.pk).update(
            status=RecordingStatus.FAILED, failure_reason="truncated file"
        )
    page = vera.get(player(processing)).content.decode()
    assert "could not be processed: truncated file" in page


def test_only_owners_and_members_see_the_delete_button(world: World):
    recording = world.a.recordings[0]
    for user, shown in ((world.a.owner, True), (world.a.member, True), (world.a.viewer, False)):
        page = client_for(user).get(player(recording)).content.decode()
        assert (delete(recording) in page) is shown, user.email


def test_another_households_clip_page_is_a_404(vera: Client, world: World):
    assert vera.get(player(world.b.recordings[0])).status_code == 404


def test_a_viewer_cannot_delete_a_clip(vera: Client, world: World, django_capture_on_commit_callbacks):
    recording = world.a.recordings[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = vera.post(delete(recording), {"household": str(world.a.account.pk)})
    assert response.status_code == 403
    with account_scope(world.a.account.pk):
        assert Recording.objects.filter(pk=recording.pk).exists()
    assert files.clip_storage.exists(account_id=recording.account_id, object_id=recording.pk, kind=files.CLIP)


def test_a_member_deletes_a_clip_and_returns_to_its_day(bob: Client, world: World, django_capture_on_commit_callbacks):
    recording = world.a.recordings[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = bob.post(delete(recording), {"household": str(world.a.account.pk), **CONFIRMED})
    assert response.status_code == 302
    day = timezone.localdate(recording.started_at).isoformat()
    assert response["Location"] == f"{reverse('recordings:timeline')}?camera={recording.camera_id}&day={day}"
    assert next(m.message for m in get_messages(response.wsgi_request)).startswith("Deleted the clip of")
    with account_scope(world.a.account.pk):
        assert not Recording.objects.filter(pk=recording.pk).exists()
    for kind in (files.CLIP, files.THUMBNAIL):
        assert not files.clip_storage.exists(account_id=recording.account_id, object_id=recording.pk, kind=kind)
    assert bob.get(player(recording)).status_code == 404


def test_deleting_asks_first_and_a_get_changes_nothing(bob: Client, world: World):
    """The player's button leads to a confirmation page; neither it nor a POST without
    the confirmation field deletes anything."""
    recording = world.a.recordings[0]
    asked = bob.get(delete(recording))
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Delete this clip?" in page
    assert 'name="confirmed" value="yes"' in page
    unconfirmed = bob.post(delete(recording), {"household": str(world.a.account.pk)})
    assert unconfirmed.status_code == 200
    assert "Delete this clip?" in unconfirmed.content.decode()
    with account_scope(world.a.account.pk):
        assert Recording.objects.filter(pk=recording.pk).exists()
    assert files.clip_storage.exists(account_id=recording.account_id, object_id=recording.pk, kind=files.CLIP)

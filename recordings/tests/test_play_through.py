"""The clip page's way on: the next clip to play through to (a playable one only), and how
long nothing was recorded in between."""

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.tenancy import account_scope
from conftest import World, client_for
from recordings.models import RecordingStatus
from recordings.tests.factories import make_recording

pytestmark = pytest.mark.usefixtures("world_with_clips")


def page(world: World, recording) -> str:
    return client_for(world.a.viewer).get(reverse("recordings:clip", args=[recording.pk])).content.decode()


def test_a_clip_with_a_playable_next_one_plays_through_to_it_and_says_the_gap(world: World):
    latest = world.a.recordings[0]
    with account_scope(world.a.account.pk):
        earlier = make_recording(world.a.cameras[0], started_at=latest.started_at - timedelta(seconds=40))
    body = page(world, earlier)
    assert f'data-next="{reverse("recordings:clip", args=[latest.pk])}?play=1"' in body
    gap = round((latest.started_at - earlier.ended_at).total_seconds())
    assert f"No recording for {gap} s before the next clip." in body


def test_no_playing_through_to_a_clip_still_being_processed(world: World):
    latest = world.a.recordings[0]
    with account_scope(world.a.account.pk):
        make_recording(world.a.cameras[0], started_at=latest.ended_at, status=RecordingStatus.PROCESSING)
    body = page(world, latest)
    assert "data-next=" not in body
    assert "The next clip follows on without a gap." in body


def test_the_newest_clip_has_nowhere_to_go(world: World):
    body = page(world, world.a.recordings[0])
    assert "data-next=" not in body
    assert 'data-testid="clip-gap"' not in body


def test_previous_and_next_motion_go_to_the_cameras_nearest_events_in_other_clips(world: World):
    latest = world.a.recordings[0]
    camera = world.a.cameras[0]
    with account_scope(world.a.account.pk):
        earlier = make_recording(camera, started_at=latest.started_at - timedelta(minutes=5))
        quiet = make_recording(camera, started_at=latest.started_at - timedelta(minutes=2), motion=False)
        event_of_latest = latest.motion_events.get()
        event_of_earlier = earlier.motion_events.get()
    body = page(world, quiet)
    before = (event_of_earlier.started_at - earlier.started_at).total_seconds()
    after = (event_of_latest.started_at - latest.started_at).total_seconds()
    assert f'href="{reverse("recordings:clip", args=[earlier.pk])}?t={before:.1f}" data-testid="event-before"' in body
    assert f'href="{reverse("recordings:clip", args=[latest.pk])}?t={after:.1f}" data-testid="event-after"' in body
    assert 'data-testid="event-after"' not in page(world, latest)  # nothing newer


def test_motion_of_another_camera_or_household_is_never_a_neighbour(world: World):
    latest = world.a.recordings[0]
    with account_scope(world.b.account.pk):
        make_recording(world.b.cameras[0], started_at=latest.ended_at + timedelta(seconds=5))
    with account_scope(world.a.account.pk):
        from devices.tests.conftest import add_camera

        other = add_camera(world.a, "Side").camera
        make_recording(other, started_at=latest.ended_at + timedelta(seconds=10))
    assert 'data-testid="event-after"' not in page(world, latest)

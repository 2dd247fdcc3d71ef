"""The support viewer under a grant: what staff see, and what the household sees of it."""

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import AccessEvent, AccessKind, AccessVia, SupportAuditEntry
from accounts.tenancy import account_scope
from conftest import World, client_for, staff_client, staff_user
from devices.tests.conftest import add_camera
from support.tests.factories import grant_give


def events_of(world: World) -> list[AccessEvent]:
    with account_scope(world.a.account.pk):
        return list(AccessEvent.objects.filter(via=AccessVia.SUPPORT).order_by("created_at"))


def log_of(world: World) -> list[SupportAuditEntry]:
    with account_scope(world.a.account.pk):
        return list(SupportAuditEntry.objects.order_by("created_at"))


@pytest.mark.usefixtures("world_with_clips")
def test_staff_play_a_clip_under_the_grant_and_the_household_sees_it(world: World, commit_each_request):
    sam = staff_user()
    staff = staff_client(user=sam)
    grant = grant_give(world.a)
    clip = world.a.recordings[0]
    page = staff.get(reverse("support:clip", args=[grant.pk, clip.pk]))
    assert page.status_code == 200
    video: Any = staff.get(reverse("support:clip-video", args=[grant.pk, clip.pk]), HTTP_RANGE="bytes=0-9")
    assert video.status_code == 206
    assert len(b"".join(video.streaming_content)) == 10
    staff.get(reverse("support:clip-video", args=[grant.pk, clip.pk]), HTTP_RANGE="bytes=10-19")  # same viewing
    thumbnail = staff.get(reverse("support:clip-thumbnail", args=[grant.pk, clip.pk]))
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"
    events = events_of(world)
    assert [e.kind for e in events] == [AccessKind.CLIP_PLAY, AccessKind.THUMBNAIL]
    assert all(
        e.actor_id == sam.pk and e.actor_label == "Support: Sam support" and e.membership_id is None for e in events
    )
    assert [e.summary.split(",")[0] for e in log_of(world)] == [f"opened the clip {clip.camera.name}"]
    history = client_for(world.a.owner).get(reverse("accounts:access-history")).content.decode()
    assert "Support: Sam support" in history
    assert "Played a clip" in history
    assert "Opened the clip" in history


def test_a_grant_of_some_cameras_covers_only_those(world: World):
    staff = staff_client()
    grant = grant_give(world.a, cameras=1)  # the porch only
    other = add_camera(world.a, "Garden").camera
    assert staff.get(reverse("support:live", args=[grant.pk, world.a.cameras[0].pk])).status_code == 200
    assert f"opened the live page of camera “{world.a.cameras[0].name}”" in [e.summary for e in log_of(world)]
    assert staff.get(reverse("support:live", args=[grant.pk, other.pk])).status_code == 404
    page = staff.get(reverse("support:grant", args=[grant.pk])).content.decode()
    assert world.a.cameras[0].name in page
    assert other.name not in page


def test_the_grant_page_is_a_read_in_the_log_once_per_window(world: World, commit_each_request):
    staff = staff_client()
    grant = grant_give(world.a)
    for _ in range(3):
        assert staff.get(reverse("support:grant", args=[grant.pk])).status_code == 200
    entries = log_of(world)
    assert [e.summary for e in entries] == ["opened the cameras and clips your grant covers"]
    assert entries[0].staff_label == "Support: Sam support"
    assert not entries[0].is_action
    with account_scope(world.b.account.pk):
        assert not SupportAuditEntry.objects.exists()


@pytest.mark.usefixtures("world_with_clips")
def test_no_role_reads_video_without_a_grant(world: World):
    """Superusers included: no grant, no video, whatever the route."""
    boss = staff_client("superuser")
    clip = world.a.recordings[0]
    grant = grant_give(world.b)  # B's grant is no key to A's clips
    assert boss.get(reverse("support:clip-video", args=[grant.pk, clip.pk])).status_code == 404
    assert boss.get(reverse("recordings:clip-video", args=[clip.pk])).status_code in (302, 404)
    assert events_of(world) == []


def test_the_household_sees_support_watching_now(world: World):
    from devices.models import LiveSession
    from devices.selectors import watchers

    sam = staff_user()
    with account_scope(world.a.account.pk):
        LiveSession.objects.create(account_id=world.a.account.pk, camera=world.a.cameras[0], user=sam)
        assert watchers(camera=world.a.cameras[0]) == ["Support: Sam support"]

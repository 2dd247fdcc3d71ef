"""Share links: one clip for whoever holds the link, and nothing else of the household."""

import hashlib
import os
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.confirm import CONFIRMED
from accounts.models import AccessEvent, AccessKind, AccessVia, Role
from accounts.services import member_set_role
from accounts.tenancy import account_scope, unscoped
from accounts.tests.factories import UserFactory
from conftest import World, client_for
from devices.models import CameraAccess, CameraKind
from devices.services import camera_access_set, camera_create
from recordings import files, sharing
from recordings.models import Recording, ShareLink
from recordings.services import recording_delete, share_link_create
from recordings.tests.factories import make_recording, make_share_link, sample_clip


def page(secret: str) -> str:
    return reverse("shared:page", kwargs={"token": secret})


def video(secret: str) -> str:
    return reverse("shared:video", kwargs={"token": secret})


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def link_events(household) -> list[AccessEvent]:
    with account_scope(household.account.pk):
        return list(AccessEvent.objects.filter(kind=AccessKind.SHARE_VIEW))


def missing_page() -> bytes:
    """The site's 404 for an address that never existed."""
    response = Client().get("/no-such-page/at-all/")
    assert response.status_code == 404
    return response.content


def share(client: Client, recording: Recording, expires: str = "1d", household=None):
    """POST the share form, carrying the household it was shown in (the clip's by default)."""
    path = reverse("recordings:clip-share", kwargs={"recording_id": recording.pk})
    guard = household.account.pk if household is not None else recording.account_id
    return client.post(path, {"expires": expires, "household": str(guard)})


def secret_of(response) -> str:
    """The secret from the page that made the link (shown once)."""
    text = response.content.decode()
    start = text.index("/s/") + 3
    return text[start : text.index("/", start)]


# --- Making a link ------------------------------------------------------------------
def test_an_owner_makes_a_link_and_only_its_hash_is_stored(world: World):
    response = share(client_for(world.a.owner), world.a.recordings[0])
    assert response.status_code == 200
    secret = secret_of(response)
    assert len(secret) >= 40
    assert f"http://testserver/s/{secret}/" in response.content.decode()
    with account_scope(world.a.account.pk):
        link = ShareLink.objects.get()
    assert link.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert link.created_by_id == world.a.memberships[Role.OWNER].pk  # read outside the scope: ids only
    assert timedelta(hours=23) < link.expires_at - timezone.now() <= timedelta(days=1)
    # Nowhere in the database: the secret is not in any column of the links' table (read in
    # the household's scope: on PostgreSQL, row-level security hides the rows otherwise).
    with account_scope(world.a.account.pk), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM recordings_sharelink")
        rows = cursor.fetchall()
    assert rows
    assert all(secret not in str(value) for row in rows for value in row)
    assert client_for(world.a.owner).get(reverse("recordings:clip", args=[world.a.recordings[0].pk])).status_code == 200


def test_a_member_makes_a_link_and_the_clip_page_lists_it(world: World):
    client = client_for(world.a.member)
    assert client.get(reverse("recordings:clip-share", args=[world.a.recordings[0].pk])).status_code == 200
    assert share(client, world.a.recordings[0], "7d").status_code == 200
    clip_page = client.get(reverse("recordings:clip", args=[world.a.recordings[0].pk])).content.decode()
    with account_scope(world.a.account.pk):
        link = ShareLink.objects.get()
    assert reverse("recordings:share-revoke", args=[link.pk]) in clip_page
    assert (
        reverse("recordings:share-revoke", args=[link.pk]) in client.get(reverse("recordings:shares")).content.decode()
    )


@pytest.mark.parametrize("expires", ["30d", "", "3600", "8d"])
def test_a_forged_lifetime_is_refused(world: World, expires: str):
    response = share(client_for(world.a.owner), world.a.recordings[0], expires)
    assert response.status_code == 400
    with account_scope(world.a.account.pk):
        assert not ShareLink.objects.exists()


def test_no_lifetime_is_longer_than_seven_days(world: World):
    link, _secret = make_share_link(world.a, lifetime="7d")
    assert link.expires_at - link.created_at == timedelta(days=7)


def test_a_viewer_cannot_share_their_households_clip(world: World):
    client = client_for(world.a.viewer)
    path = reverse("recordings:clip-share", args=[world.a.recordings[0].pk])
    assert client.get(path).status_code == 403
    assert share(client, world.a.recordings[0]).status_code == 403
    clip_page = client.get(reverse("recordings:clip", args=[world.a.recordings[0].pk])).content.decode()
    assert path not in clip_page
    with account_scope(world.a.account.pk):
        assert not ShareLink.objects.exists()


def test_nobody_shares_a_clip_they_cannot_see(world: World):
    """Another household's clip, or a camera kept from a limited member: 404 like a missing clip."""
    with account_scope(world.a.account.pk):
        other, _token = camera_create(actor=world.a.memberships[Role.OWNER], name="Kept", kind=CameraKind.PUSH)
        kept = make_recording(other, clip=sample_clip())
        member = world.a.memberships[Role.MEMBER]
        member.camera_access_limited = True
        member.save()
        CameraAccess.objects.create(account=world.a.account, membership=member, camera=world.a.cameras[0])
    assert share(client_for(world.a.member), kept).status_code == 404
    assert share(client_for(world.a.member), world.a.recordings[0]).status_code == 200  # their camera's clip
    for role in (Role.OWNER, Role.MEMBER, Role.VIEWER):
        response = share(client_for(world.a.people[role]), world.b.recordings[0], household=world.a)
        assert response.status_code == 404, role
    with unscoped("test: every link"):
        assert list(ShareLink.objects.values_list("recording_id", flat=True)) == [world.a.recordings[0].pk]


def test_a_clip_still_processing_is_not_shared(world: World):
    response = share(client_for(world.a.owner), world.a.recordings[1])
    assert response.status_code == 302
    with account_scope(world.a.account.pk):
        assert not ShareLink.objects.exists()


# --- Opening a link -----------------------------------------------------------------
def test_a_link_serves_its_clip_and_nothing_else(world: World):
    _link, secret = make_share_link(world.a)
    client = Client()
    response = client.get(page(secret))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="player"' in html
    for headers in (response, client.get(video(secret)), client.get(reverse("shared:thumbnail", args=[secret]))):
        assert headers.status_code == 200
        assert "no-store" in headers["Cache-Control"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "noindex" in headers["X-Robots-Tag"]
    recording = world.a.recordings[0]
    with account_scope(world.a.account.pk):
        expected = b"".join(
            files.open_range(recording, kind=files.CLIP, start=0, end_inclusive=recording.size_bytes - 1)
        )
    served = client.get(video(secret), HTTP_RANGE=f"bytes=0-{recording.size_bytes - 1}")
    assert served.status_code == 206
    assert body(served) == expected
    # Nothing of the household: no name, camera, person, other clip or navigation.
    secrets_of_a = world.a.ids() - {str(recording.pk)}
    assert sorted(s for s in secrets_of_a if s in html) == []
    assert str(recording.pk) not in html
    assert sorted(s for s in world.b.ids() if s in html) == []
    assert "<a " not in html
    assert "<nav" not in html
    assert "<form" not in html


def test_a_link_never_serves_another_households_clip(world: World):
    """Each household shares a clip of its own random bytes: each link serves its own, whole."""
    data, secrets = {}, {}
    for household in (world.a, world.b):
        data[household.account.pk] = os.urandom(300_000)
        with account_scope(household.account.pk):
            recording = make_recording(household.cameras[0], clip=data[household.account.pk], motion=False)
        _link, secrets[household.account.pk] = make_share_link(household, recording=recording)
    client = Client()
    for mine, theirs in ((world.a, world.b), (world.b, world.a)):
        served = body(client.get(video(secrets[mine.account.pk]), HTTP_RANGE="bytes=0-"))
        assert served == data[mine.account.pk]
        assert served != data[theirs.account.pk]
    secret_a = secrets[world.a.account.pk]
    got_a = data[world.a.account.pk]
    # The address carries nothing but the secret: B's clip id appended or a query says nothing.
    extra = f"{video(secret_a)}?recording={world.b.recordings[0].pk}&account={world.b.account.pk}"
    assert body(client.get(extra, HTTP_RANGE="bytes=0-")) == got_a
    # A's secret in B's clip route, or its hash as a secret, finds nothing.
    assert client.get(f"/s/{world.b.recordings[0].pk}/").status_code == 404
    assert client.get(page(sharing.token_hash(secret_a))).status_code == 404
    # A signed-in person of B opening A's link sees A's one clip; it is recorded in A's history only.
    before_b = link_events(world.b)
    response = client_for(world.b.owner).get(page(secret_a))
    assert response.status_code == 200
    assert link_events(world.b) == before_b
    with account_scope(world.a.account.pk):
        a_clips = set(Recording.objects.values_list("pk", flat=True))
    assert {event.object_id for event in link_events(world.a)} <= a_clips


def test_dead_links_are_the_sites_404(world: World):
    missing = missing_page()
    expired, expired_secret = make_share_link(world.a, lifetime="1h")
    revoked, revoked_secret = make_share_link(world.a)
    gone_clip = make_recording_for_share(world)
    _gone, gone_secret = make_share_link(world.a, recording=gone_clip)
    with account_scope(world.a.account.pk):
        ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        ShareLink.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
        recording_delete(actor=world.a.memberships[Role.OWNER], recording=gone_clip)
    unknown = "A" * 43
    client = Client()
    for secret in (expired_secret, revoked_secret, gone_secret, unknown, "x", "a.b"):
        for path in (page(secret), video(secret), reverse("shared:thumbnail", args=[secret])):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.content == missing, path
    assert link_events(world.a) == []


def make_recording_for_share(world: World) -> Recording:
    with account_scope(world.a.account.pk):
        return make_recording(world.a.cameras[0], started_at=timezone.now() - timedelta(hours=3))


def test_revoking_is_immediate(world: World):
    link, secret = make_share_link(world.a)
    client = Client()
    assert client.get(page(secret)).status_code == 200
    owner = client_for(world.a.member)
    path = reverse("recordings:share-revoke", args=[link.pk])
    assert b'data-testid="confirmation"' in owner.get(path).content
    assert client.get(page(secret)).status_code == 200  # asking is not revoking
    response = owner.post(path, {"household": str(world.a.account.pk), **CONFIRMED})
    assert response.status_code == 302
    assert client.get(page(secret)).status_code == 404
    assert client.get(video(secret)).status_code == 404


def test_a_link_lasts_only_while_its_maker_may_share_the_clip(world: World):
    """An owner who limits a member away from the camera, or makes them a viewer, stops the
    member's links to it at once; giving the camera back (the link not expired) restores it."""
    owner, member = world.a.memberships[Role.OWNER], world.a.memberships[Role.MEMBER]
    with account_scope(world.a.account.pk):
        _link, secret = share_link_create(actor=member, recording=world.a.recordings[0], lifetime="1d")
        other, _token = camera_create(actor=owner, name="Garden", kind=CameraKind.PUSH)
    client = Client()
    assert client.get(page(secret)).status_code == 200
    with account_scope(world.a.account.pk):
        camera_access_set(actor=owner, membership=member, limited=True, cameras=[other])
    assert client.get(page(secret)).status_code == 404
    assert client.get(video(secret)).status_code == 404
    with account_scope(world.a.account.pk):
        camera_access_set(actor=owner, membership=member, limited=False, cameras=[])
    assert client.get(page(secret)).status_code == 200
    with account_scope(world.a.account.pk):
        member_set_role(actor=owner, membership=member, role=Role.VIEWER)
    assert client.get(page(secret)).status_code == 404


def test_a_viewer_cannot_revoke_and_nobody_revokes_another_households_link(world: World):
    link, secret = make_share_link(world.a)
    path = reverse("recordings:share-revoke", args=[link.pk])
    viewer = client_for(world.a.viewer)
    assert viewer.post(path, {"household": str(world.a.account.pk), **CONFIRMED}).status_code == 403
    for role in (Role.OWNER, Role.MEMBER):
        response = client_for(world.b.people[role]).post(path, {"household": str(world.b.account.pk), **CONFIRMED})
        assert response.status_code == 404
    assert Client().get(page(secret)).status_code == 200


@pytest.mark.usefixtures("commit_each_request")
def test_each_view_writes_one_event_in_the_households_history(world: World):
    link, secret = make_share_link(world.a)
    client = Client(HTTP_USER_AGENT="Friend's phone")
    for _ in range(2):
        assert client.get(page(secret)).status_code == 200
        # The player's range requests after the page add nothing.
        for start in (0, 1000, 0):
            assert client.get(video(secret), HTTP_RANGE=f"bytes={start}-").status_code == 206
        client.get(reverse("shared:thumbnail", args=[secret]))
    events = link_events(world.a)
    assert len(events) == 2
    event = events[0]
    assert event.via == AccessVia.LINK
    assert event.actor is None
    assert event.membership is None
    assert event.actor_label == f"Shared link ({world.a.owner.display_name})"
    assert event.object_id == world.a.recordings[0].pk
    assert event.user_agent == "Friend's phone"
    assert event.ip_address == "127.0.0.1"
    assert link_events(world.b) == []
    with account_scope(world.a.account.pk):
        link.refresh_from_db()
    assert link.views == 2
    assert link.last_viewed_at is not None
    # The household reads it in its access history.
    history = client_for(world.a.owner).get(reverse("accounts:access-history")).content.decode()
    assert "Shared link" in history


@pytest.mark.usefixtures("commit_each_request")
def test_the_video_alone_is_recorded_too(world: World):
    """Skipping the page does not hide a viewing: one event per address within the window."""
    _link, secret = make_share_link(world.a)
    for _ in range(3):
        assert Client().get(video(secret), HTTP_RANGE="bytes=0-").status_code == 206
    assert len(link_events(world.a)) == 1


def test_page_views_are_rate_limited_per_link(world: World):
    _link, secret = make_share_link(world.a)
    _other, other_secret = make_share_link(world.a)
    client = Client()
    for _ in range(sharing.VIEWS_PER_MINUTE):
        assert client.get(page(secret)).status_code == 200
    assert client.get(page(secret)).status_code == 429
    assert client.get(page(other_secret)).status_code == 200
    assert len(link_events(world.a)) == sharing.VIEWS_PER_MINUTE + 1
    cache.clear()


def test_a_link_opens_whatever_session_the_browser_has(world: World, settings):
    """The link is its own identity: a household's second-factor rule for the person signed
    in, or a staff session without its second factor, does not stand in its way."""
    _link, secret = make_share_link(world.a)
    with account_scope(world.b.account.pk):
        world.b.account.require_second_factor = True
        world.b.account.save()
    assert client_for(world.b.member).get(reverse("recordings:timeline")).status_code == 302  # the rule holds
    assert client_for(world.b.member).get(page(secret)).status_code == 200
    staff = UserFactory.create(email="support@nvr.test", is_staff=True)
    assert client_for(staff).get(page(secret)).status_code == 200

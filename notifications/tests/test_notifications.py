"""Motion notifications: who hears of which camera, when not, how often, and what they hear."""

import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.tenancy import account_scope
from conftest import Household, World, client_for
from devices.models import Camera, CameraKind
from devices.services import camera_access_set, camera_create
from notifications import services, tasks
from notifications.models import CameraNotice, CameraSubscription, NotificationSettings
from notifications.selectors import in_quiet_hours
from notifications.tests.helpers import FakeTask, Retry, receiver
from recordings.models import Recording
from recordings.tests import test_processing as processing_tests
from recordings.tests.factories import make_recording

pytestmark = pytest.mark.django_db

REFUSED = "This address is not allowed."


def second_camera(household: Household) -> Camera:
    with account_scope(household.account.pk):
        camera, _ = camera_create(
            actor=household.memberships[Role.OWNER], name=f"{household.account.name} garden", kind=CameraKind.PUSH
        )
    return camera


def limit(household: Household, role: str, cameras: list[Camera]) -> None:
    with account_scope(household.account.pk):
        camera_access_set(
            actor=household.memberships[Role.OWNER],
            membership=household.memberships[role],
            limited=True,
            cameras=cameras,
        )
        household.memberships[role].refresh_from_db()


def subscribe(membership: Membership, **choices) -> str | None:
    values: dict[str, Any] = {
        "all_cameras": True,
        "cameras": [],
        "email_enabled": True,
        "webhook_enabled": False,
        "webhook_url": "",
        "quiet_start": None,
        "quiet_end": None,
    }
    values.update(choices)
    with account_scope(membership.account_id):
        membership = Membership.objects.select_related("user", "account").get(pk=membership.pk)
        _, secret = services.notification_settings_update(actor=membership, **values)
    return secret


def clip_of(camera: Camera, minutes_ago: int = 5) -> Recording:
    with account_scope(camera.account_id):
        return make_recording(camera, started_at=datetime.now(UTC) - timedelta(minutes=minutes_ago))


def notify(recording: Recording) -> int:
    """The task's body, run here as the worker would (JSON ids, the household's first)."""
    return tasks.notify_motion(str(recording.account_id), str(recording.camera_id), str(recording.pk))


def mail_to(user: User) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if user.email in message.to]


def rows_of(household: Household) -> list[tuple]:
    with account_scope(household.account.pk):
        return [
            *NotificationSettings.objects.order_by("pk").values_list(),
            *CameraSubscription.objects.order_by("pk").values_list(),
            *CameraNotice.objects.order_by("pk").values_list(),
        ]


# --- Which cameras ----------------------------------------------------------------------
def test_the_page_offers_only_the_cameras_a_limited_member_may_see(world: World):
    hidden = second_camera(world.a)
    limit(world.a, Role.MEMBER, [world.a.cameras[0]])
    bob = client_for(world.a.member)
    body = bob.get(reverse("notifications:settings")).content.decode()
    assert world.a.cameras[0].name in body
    assert hidden.name not in body
    assert str(hidden.pk) not in body
    # The owner sees both (the page does list cameras).
    assert hidden.name in client_for(world.a.owner).get(reverse("notifications:settings")).content.decode()

    answer = bob.post(
        reverse("notifications:settings"),
        {"household": str(world.a.account.pk), "cameras": [str(hidden.pk)], "email_enabled": "on"},
    )
    assert answer.status_code == 400
    with account_scope(world.a.account.pk):
        assert not CameraSubscription.objects.filter(camera=hidden).exists()


def test_the_service_drops_cameras_kept_from_the_person(world: World):
    hidden = second_camera(world.a)
    limit(world.a, Role.MEMBER, [world.a.cameras[0]])
    subscribe(world.a.memberships[Role.MEMBER], all_cameras=False, cameras=[world.a.cameras[0], hidden])
    with account_scope(world.a.account.pk):
        chosen = set(CameraSubscription.objects.values_list("camera_id", flat=True))
    assert chosen == {world.a.cameras[0].pk}


def test_saving_and_reading_back_the_settings_page(world: World):
    bob = client_for(world.a.member)
    answer = bob.post(
        reverse("notifications:settings"),
        {
            "household": str(world.a.account.pk),
            "cameras": [str(world.a.cameras[0].pk)],
            "email_enabled": "on",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert answer.status_code == 302
    with account_scope(world.a.account.pk):
        row = NotificationSettings.objects.get(membership=world.a.memberships[Role.MEMBER])
        assert (row.email_enabled, row.all_cameras, row.quiet_start, row.quiet_end) == (
            True,
            False,
            time(22),
            time(7),
        )
        assert CameraSubscription.objects.filter(camera=world.a.cameras[0]).count() == 1


# --- Who hears ----------------------------------------------------------------------------
def test_a_limited_member_hears_nothing_of_a_hidden_camera_despite_a_stale_subscription(world: World):
    hidden = second_camera(world.a)
    bob = world.a.memberships[Role.MEMBER]
    subscribe(bob, all_cameras=False, cameras=[hidden])  # chosen while he could see it
    subscribe(world.a.memberships[Role.OWNER])
    limit(world.a, Role.MEMBER, [world.a.cameras[0]])
    with account_scope(world.a.account.pk):
        assert CameraSubscription.objects.filter(membership=bob, camera=hidden).exists()  # stale row kept

    assert notify(clip_of(hidden)) == 1
    assert mail_to(world.a.owner)
    assert not mail_to(world.a.member)


def test_all_my_cameras_means_the_ones_the_person_may_see(world: World):
    hidden = second_camera(world.a)
    limit(world.a, Role.VIEWER, [world.a.cameras[0]])
    subscribe(world.a.memberships[Role.VIEWER], all_cameras=True)
    notify(clip_of(hidden))
    assert mail_to(world.a.viewer) == []
    notify(clip_of(world.a.cameras[0]))
    assert len(mail_to(world.a.viewer)) == 1


def test_quiet_hours_are_in_the_persons_own_time_zone(world: World):
    world.a.owner.time_zone = "Asia/Tokyo"
    world.a.owner.save()
    subscribe(world.a.memberships[Role.OWNER], quiet_start=time(22), quiet_end=time(7))
    clip = clip_of(world.a.cameras[0])
    night_in_tokyo = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo, 14:00 in UTC
    with account_scope(world.a.account.pk):
        plan = services.motion_notify_plan(camera_id=str(clip.camera_id), recording_id=str(clip.pk), now=night_in_tokyo)
    assert plan.emails == []
    day_in_tokyo = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo, 03:00 in UTC
    with account_scope(world.a.account.pk):
        plan = services.motion_notify_plan(camera_id=str(clip.camera_id), recording_id=str(clip.pk), now=day_in_tokyo)
    assert [m.to for m in plan.emails] == [[world.a.owner.email]]


@pytest.mark.parametrize(
    ("start", "end", "hour", "quiet"),
    [(22, 7, 23, True), (22, 7, 3, True), (22, 7, 7, False), (22, 7, 12, False), (9, 17, 12, True), (9, 17, 18, False)],
)
def test_quiet_hours_span_midnight(start: int, end: int, hour: int, quiet: bool):
    from zoneinfo import ZoneInfo

    at = datetime(2026, 12, 2, hour, 0, tzinfo=UTC)
    assert in_quiet_hours(start=time(start), end=time(end), at=at, tz=ZoneInfo("UTC")) is quiet


# --- How often -----------------------------------------------------------------------------
def test_two_clips_in_a_row_give_one_notification_per_camera(world: World, settings):
    settings.NVR_NOTIFY_MIN_INTERVAL_S = 60
    other = second_camera(world.a)
    subscribe(world.a.memberships[Role.OWNER])
    assert notify(clip_of(world.a.cameras[0], 3)) == 1
    assert notify(clip_of(world.a.cameras[0], 2)) == 0
    assert notify(clip_of(other)) == 1  # per camera: the other camera is not held back
    assert len(mail_to(world.a.owner)) == 2


def test_the_camera_notifies_again_once_the_interval_has_passed(world: World, settings):
    settings.NVR_NOTIFY_MIN_INTERVAL_S = 60
    subscribe(world.a.memberships[Role.OWNER])
    camera = world.a.cameras[0]
    now = datetime.now(UTC)
    with account_scope(world.a.account.pk):
        assert services.camera_notice_claim(camera=camera, now=now)
        assert not services.camera_notice_claim(camera=camera, now=now)  # a second worker, same moment
        assert not services.camera_notice_claim(camera=camera, now=now + timedelta(seconds=59))
        assert services.camera_notice_claim(camera=camera, now=now + timedelta(seconds=61))


# --- What they hear ------------------------------------------------------------------------
def test_emails_carry_nothing_of_another_household_or_of_a_hidden_camera(world: World):
    hidden = second_camera(world.a)
    limit(world.a, Role.MEMBER, [world.a.cameras[0]])
    subscribe(world.a.memberships[Role.MEMBER])
    subscribe(world.a.memberships[Role.OWNER])
    subscribe(world.b.memberships[Role.OWNER])
    clip = clip_of(world.a.cameras[0])
    notify(clip)
    (bobs,) = mail_to(world.a.member)
    text = str(bobs.subject) + str(bobs.body)
    assert world.a.cameras[0].name in text
    assert str(clip.pk) in text
    assert hidden.name not in text
    assert str(hidden.pk) not in text
    for message in mail.outbox:
        everything = str(message.subject) + str(message.body) + " ".join(message.to)
        assert [s for s in world.b.ids() if s in everything] == []
    assert mail_to(world.b.owner) == []


# --- The trigger ---------------------------------------------------------------------------
def test_processing_a_clip_with_motion_enqueues_one_notification_after_commit(
    world: World, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued: list[tuple] = []
    monkeypatch.setattr(tasks.notify_motion, "delay", lambda *args: enqueued.append(args))
    recording = processing_tests.uploaded(world.a.cameras[0], processing_tests.clip())
    with django_capture_on_commit_callbacks(execute=True):
        assert processing_tests.run(recording) == "ready"
    assert enqueued == [(str(world.a.account.pk), str(world.a.cameras[0].pk), str(recording.pk))]


# --- Webhooks ----------------------------------------------------------------------------
def deliver(membership: Membership, recording: Recording | None, task: FakeTask | None = None) -> str:
    recording_id = str(recording.pk) if recording else None
    return tasks.deliver(task or FakeTask(), str(membership.account_id), str(membership.pk), recording_id)


def test_the_webhook_is_signed_with_the_persons_secret_and_says_the_minimum(world: World):
    owner = world.a.memberships[Role.OWNER]
    with receiver([200]) as hook:
        secret = subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url=hook.url + "?k=1")
        assert secret
        clip = clip_of(world.a.cameras[0])
        assert deliver(owner, clip) == "delivered"
    ((headers, body, path),) = hook.received
    assert path == "/hook?k=1"
    expected = hmac.new(secret.encode(), headers["x-nvr-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-nvr-signature"] == f"sha256={expected.hexdigest()}"
    assert hmac.compare_digest(headers["x-nvr-signature"], "sha256=" + expected.hexdigest())
    wrong = hmac.new(b"another secret", headers["x-nvr-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-nvr-signature"] != f"sha256={wrong.hexdigest()}"
    payload = json.loads(body)
    assert set(payload) == {"event", "camera", "event_time", "clip_url"}
    assert payload["camera"] == world.a.cameras[0].name
    assert str(clip.pk) in payload["clip_url"]
    assert str(world.a.account.pk) not in body.decode()  # no household (its name is in the camera's, here)
    assert headers["host"].startswith("127.0.0.1:")


def test_a_notification_enqueues_the_webhook_once_committed(
    world: World, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued: list[tuple] = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda *args: enqueued.append(args))
    owner = world.a.memberships[Role.OWNER]
    subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url="http://127.0.0.1:9/hook")
    clip = clip_of(world.a.cameras[0])
    with django_capture_on_commit_callbacks(execute=True):
        notify(clip)
    assert enqueued == [(str(world.a.account.pk), str(owner.pk), str(clip.pk))]


def test_a_500_is_retried_with_backoff_then_delivered(world: World):
    owner = world.a.memberships[Role.OWNER]
    with receiver([500, 200]) as hook:
        subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url=hook.url)
        clip = clip_of(world.a.cameras[0])
        first = FakeTask(retries=0)
        with pytest.raises(Retry):
            deliver(owner, clip, first)
        assert len(first.countdowns) == 1
        assert 15 <= first.countdowns[0] <= 30
        assert deliver(owner, clip, FakeTask(retries=1)) == "delivered"
    assert len(hook.received) == 2


@pytest.mark.parametrize(("status", "retried"), [(404, False), (400, False), (429, True), (503, True), (302, False)])
def test_which_answers_are_retried(world: World, status: int, retried: bool):
    owner = world.a.memberships[Role.OWNER]
    with receiver([status]) as hook:
        subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url=hook.url)
        task = FakeTask()
        if retried:
            with pytest.raises(Retry):
                deliver(owner, clip_of(world.a.cameras[0]), task)
        else:
            assert deliver(owner, clip_of(world.a.cameras[0]), task) == f"answered {status}"
            assert task.countdowns == []
    assert len(hook.received) == 1  # a redirect is not followed


def test_retries_stop_at_the_limit(world: World, settings):
    settings.NVR_WEBHOOK_MAX_RETRIES = 3
    owner = world.a.memberships[Role.OWNER]
    with receiver([500]) as hook:
        subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url=hook.url)
        assert deliver(owner, clip_of(world.a.cameras[0]), FakeTask(retries=3)) == "answered 500"


def test_backoff_grows_and_is_capped():
    assert all(15 <= tasks.retry_delay(0) <= 30 for _ in range(20))
    assert all(120 <= tasks.retry_delay(3) <= 240 for _ in range(20))
    assert all(tasks.retry_delay(20) <= 3600 for _ in range(20))


# --- The address check --------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://0x7f.1/",
    ],
)
def test_an_address_on_the_servers_network_is_refused_on_save(world: World, settings, url: str):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError) as refused:
        subscribe(world.a.memberships[Role.OWNER], webhook_enabled=True, webhook_url=url)
    assert refused.value.message_dict == {"webhook_url": [REFUSED]}


def test_the_page_shows_the_refusal_readably(world: World, settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    answer = client_for(world.a.owner).post(
        reverse("notifications:settings"),
        {"household": str(world.a.account.pk), "webhook_enabled": "on", "webhook_url": "http://127.0.0.1:8000/x"},
    )
    assert answer.status_code == 400
    assert REFUSED in answer.content.decode()
    ftp = client_for(world.a.owner).post(
        reverse("notifications:settings"),
        {"household": str(world.a.account.pk), "webhook_url": "ftp://example.com/x"},
    )
    assert ftp.status_code == 400
    assert "Use an http:// or https:// address" in ftp.content.decode()


def test_a_refused_address_is_never_connected_to_at_send_time(world: World, settings, monkeypatch):
    owner = world.a.memberships[Role.OWNER]
    with receiver([200]) as hook:
        subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url=hook.url)  # allowed then
        clip = clip_of(world.a.cameras[0])
        settings.NVR_CAMERA_ALLOWED_NETWORKS = []  # the operator withdrew it

        def no_connection(*args, **kwargs):
            pytest.fail(f"connected to {args}")

        monkeypatch.setattr(socket, "create_connection", no_connection)
        task = FakeTask()
        assert deliver(owner, clip, task).startswith("address refused")
        assert task.countdowns == []
    assert hook.received == []


# --- Other households --------------------------------------------------------------------
def test_another_households_rows_are_never_touched(world: World, django_capture_on_commit_callbacks):
    with receiver([200]) as b_hook:
        subscribe(world.b.memberships[Role.OWNER], webhook_enabled=True, webhook_url=b_hook.url)
        b_clip = clip_of(world.b.cameras[0])  # B's clip exists, unnotified
        before = rows_of(world.b)
        subscribe(world.a.memberships[Role.OWNER])
        notify(clip_of(world.a.cameras[0]))
        # A's household with B's ids finds nothing.
        assert tasks.notify_motion(str(world.a.account.pk), str(b_clip.camera_id), str(b_clip.pk)) == 0
        owner_b = world.b.memberships[Role.OWNER]
        assert tasks.deliver(FakeTask(), str(world.a.account.pk), str(owner_b.pk), str(b_clip.pk)) == "skipped"
        alice = client_for(world.a.owner)
        guard = {"household": str(world.a.account.pk)}
        with django_capture_on_commit_callbacks(execute=True):
            assert alice.post(reverse("notifications:test"), guard).status_code == 302
            assert alice.post(reverse("notifications:secret"), guard).status_code == 200
            assert alice.post(reverse("notifications:settings"), {**guard, "all_cameras": "on"}).status_code == 302
        assert rows_of(world.b) == before
    assert b_hook.received == []
    assert mail_to(world.b.owner) == []


# --- The page's buttons ---------------------------------------------------------------------
def test_the_secret_is_shown_once_and_a_new_one_replaces_it(world: World):
    alice = client_for(world.a.owner)
    guard = {"household": str(world.a.account.pk)}
    answer = alice.post(
        reverse("notifications:settings"), {**guard, "webhook_enabled": "on", "webhook_url": "http://127.0.0.1:9/h"}
    )
    assert answer.status_code == 200
    assert "shown this once" in answer.content.decode()
    first = answer.context["secret"]
    assert first
    assert first in answer.content.decode()
    again = alice.get(reverse("notifications:settings")).content.decode()
    assert first not in again
    with account_scope(world.a.account.pk):
        stored = NotificationSettings.objects.get(membership=world.a.memberships[Role.OWNER]).webhook_secret_encrypted
    assert first not in stored  # encrypted at rest
    rotated = alice.post(reverse("notifications:secret"), guard)
    assert rotated.context["secret"] not in (None, first)


def test_the_test_button_emails_the_person_only(world: World, django_capture_on_commit_callbacks):
    subscribe(world.a.memberships[Role.MEMBER])
    subscribe(world.a.memberships[Role.OWNER])
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(world.a.member).post(reverse("notifications:test"), {"household": str(world.a.account.pk)})
    assert answer.status_code == 302
    assert [m.to for m in mail.outbox] == [[world.a.member.email]]


def test_the_celery_task_run_eagerly_retries_a_500_then_delivers(world: World, settings):
    """The real bound task (not the stand-in): Celery's own retry, run eagerly, past its
    default limit of 3: NVR_WEBHOOK_MAX_RETRIES decides."""
    settings.NVR_WEBHOOK_MAX_RETRIES = 6
    owner = world.a.memberships[Role.OWNER]
    with receiver([500, 500, 500, 500, 200]) as hook:
        subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url=hook.url)
        clip = clip_of(world.a.cameras[0])
        result = tasks.deliver_webhook.apply(args=(str(owner.account_id), str(owner.pk), str(clip.pk)))
        assert result.get() == "delivered"
    assert len(hook.received) == 5


def fake_dns(monkeypatch, answers: dict[str, str]) -> list[str]:
    """``socket.getaddrinfo`` answering ``answers`` for names, the real one for the rest."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host in answers:
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return asked


def test_the_name_is_resolved_once_and_the_checked_address_is_connected_to(world: World, monkeypatch):
    owner = world.a.memberships[Role.OWNER]
    with receiver([200]) as hook:
        port = hook.url.split(":")[2].split("/")[0]
        asked = fake_dns(monkeypatch, {"hooks.example": "127.0.0.1"})
        subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url=f"http://hooks.example:{port}/hook")
        asked.clear()
        assert deliver(owner, clip_of(world.a.cameras[0])) == "delivered"
    assert asked == ["hooks.example"]  # the check's lookup; the connection used its answer
    ((headers, _, _),) = hook.received
    assert headers["host"] == f"hooks.example:{port}"


def test_a_name_that_moved_inside_since_it_was_saved_is_refused(world: World, settings, monkeypatch):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    owner = world.a.memberships[Role.OWNER]
    fake_dns(monkeypatch, {"hooks.example": "93.184.215.14"})  # public when saved
    subscribe(owner, email_enabled=False, webhook_enabled=True, webhook_url="http://hooks.example/hook")
    fake_dns(monkeypatch, {"hooks.example": "169.254.169.254"})  # then rebound to metadata

    def no_connection(*args, **kwargs):
        pytest.fail(f"connected to {args}")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    assert deliver(owner, clip_of(world.a.cameras[0])).startswith("address refused")

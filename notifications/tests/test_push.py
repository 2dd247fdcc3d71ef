"""Web Push: subscribing a browser, and motion reaching it encrypted, signed and only where allowed.

The push service is a receiver on 127.0.0.1 that plays the browser too: it holds the
subscription's private key and auth secret (made here) and decrypts what arrives
(aes128gcm, RFC 8291), and checks the VAPID JWT's signature with the site's public key.
"""

import base64
import io
import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Membership, Role
from accounts.tenancy import account_scope
from conftest import World, client_for
from notifications import push, services, tasks
from notifications.models import NotificationSettings, PushSubscription
from notifications.tests.helpers import FakeTask, Retry, receiver
from notifications.tests.test_notifications import clip_of, limit, second_camera, subscribe
from recordings.tests import test_processing as processing_tests

pytestmark = pytest.mark.django_db


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(autouse=True)
def vapid_key(settings, tmp_path) -> str:
    """A key pair of the site's, made by the command as bin/demo does; its public key."""
    settings.NVR_VAPID_PRIVATE_KEY = ""
    settings.NVR_VAPID_KEY_FILE = tmp_path / "vapid.pem"
    call_command("vapid_keys", stdout=io.StringIO(), stderr=io.StringIO())
    key = push.public_key()
    assert key
    return key


@dataclass
class Browser:
    """A browser's side of a subscription: its ECDH key and auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def make(cls) -> "Browser":
        return cls(private_key=ec.generate_private_key(ec.SECP256R1()), auth=os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")
        return json.loads(plain)


def join(membership: Membership, endpoint: str, browser: Browser) -> PushSubscription:
    with account_scope(membership.account_id):
        membership = Membership.objects.select_related("user", "account").get(pk=membership.pk)
        return services.push_subscribe(
            actor=membership, endpoint=endpoint, p256dh=browser.p256dh, auth=b64url(browser.auth), label="Test"
        )


def vapid_claims(authorization: str, site_key: str) -> dict[str, Any]:
    """The JWT's claims once its ES256 signature checks out with the site's public key."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert fields["k"] == site_key
    head, claims, signature = fields["t"].split(".")
    raw = unb64url(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(site_key))
    public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    assert json.loads(unb64url(head))["alg"] == "ES256"
    return json.loads(unb64url(claims))


# --- End to end --------------------------------------------------------------------------
def test_a_clip_with_motion_reaches_the_browser_encrypted_and_signed(
    world: World, vapid_key: str, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Clip processed -> notify_motion -> deliver_push -> the push service, as the worker runs them."""
    monkeypatch.setattr(tasks.notify_motion, "delay", lambda *args: tasks.notify_motion.apply(args=args).get())
    monkeypatch.setattr(tasks.deliver_push, "delay", lambda *args: tasks.deliver_push.apply(args=args).get())
    owner = world.a.memberships[Role.OWNER]
    browser = Browser.make()
    camera = world.a.cameras[0]
    with receiver([201], path="/push/abc") as service:
        join(owner, service.url, browser)
        recording = processing_tests.uploaded(camera, processing_tests.clip())
        with django_capture_on_commit_callbacks(execute=True):
            assert processing_tests.run(recording) == "ready"
    ((headers, body, path),) = service.received
    assert path == "/push/abc"
    assert headers["content-encoding"] == "aes128gcm"
    assert int(headers["ttl"]) == settings.NVR_PUSH_TTL_S
    payload = browser.decrypt(body)
    assert set(payload) == {"camera", "time", "url"}
    assert payload["camera"] == camera.name
    assert payload["url"].endswith(reverse("recordings:clip", args=[recording.pk]))
    assert str(world.a.account.pk) not in json.dumps(payload)
    claims = vapid_claims(headers["authorization"], vapid_key)
    assert claims["aud"] == service.url.rsplit("/push/", 1)[0]
    assert claims["sub"] == settings.NVR_VAPID_SUBJECT
    assert claims["exp"] > time.time()
    # Another browser's keys cannot read it.
    with pytest.raises(http_ece.ECEException, match="Decryption error"):
        Browser.make().decrypt(body)


def test_a_forged_vapid_signature_is_caught_by_the_check(world: World, vapid_key: str):
    """The test's own JWT check can fail: another key's signature does not verify."""
    other = ec.generate_private_key(ec.SECP256R1())
    other_key = b64url(
        other.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    with receiver([201]) as service:
        join(world.a.memberships[Role.OWNER], service.url, Browser.make())
        clip = clip_of(world.a.cameras[0])
        with account_scope(world.a.account.pk):
            (subscription_id,) = PushSubscription.objects.values_list("pk", flat=True)
        assert tasks.push(FakeTask(), str(world.a.account.pk), str(subscription_id), str(clip.pk)) == "delivered"
    ((headers, _, _),) = service.received
    authorization = headers["authorization"].replace(f"k={vapid_key}", f"k={other_key}")
    with pytest.raises(InvalidSignature):
        vapid_claims(authorization, other_key)


def test_a_restricted_member_gets_no_push_for_a_hidden_camera(
    world: World, monkeypatch, django_capture_on_commit_callbacks
):
    hidden = second_camera(world.a)
    bob = world.a.memberships[Role.MEMBER]
    bobs, owners = Browser.make(), Browser.make()
    with receiver([201], path="/bob") as bob_service, receiver([201], path="/owner") as owner_service:
        subscribe(bob, email_enabled=False, all_cameras=False, cameras=[hidden])  # while he could see it
        join(bob, bob_service.url, bobs)
        join(world.a.memberships[Role.OWNER], owner_service.url, owners)
        limit(world.a, Role.MEMBER, [world.a.cameras[0]])
        enqueued: list[tuple] = []
        monkeypatch.setattr(tasks.deliver_push, "delay", lambda *args: enqueued.append(args))
        clip = clip_of(hidden)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.notify_motion(str(world.a.account.pk), str(hidden.pk), str(clip.pk))
        assert len(enqueued) == 1  # the owner's browser only
        for args in enqueued:
            tasks.push(FakeTask(), *args)
        # Even a delivery enqueued for Bob (before his access changed) sends nothing.
        with account_scope(world.a.account.pk):
            bobs_row = PushSubscription.objects.get(membership=bob)
        assert tasks.push(FakeTask(), str(world.a.account.pk), str(bobs_row.pk), str(clip.pk)) == "skipped"
    assert bob_service.received == []
    ((_, body, _),) = owner_service.received
    assert owners.decrypt(body)["camera"] == hidden.name


def test_quiet_hours_and_the_per_camera_limit_hold_for_push(world: World, settings):
    settings.NVR_NOTIFY_MIN_INTERVAL_S = 60
    owner = world.a.memberships[Role.OWNER]
    with receiver([201]) as service:
        join(owner, service.url, Browser.make())
        first = clip_of(world.a.cameras[0], 3)
        with account_scope(world.a.account.pk):
            plan = services.motion_notify_plan(camera_id=str(first.camera_id), recording_id=str(first.pk))
            assert len(plan.pushes) == 1
            second = clip_of(world.a.cameras[0], 2)
            again = services.motion_notify_plan(camera_id=str(second.camera_id), recording_id=str(second.pk))
        assert again.pushes == []


# --- What the push service answers ---------------------------------------------------------
def test_a_410_forgets_the_subscription(world: World):
    owner = world.a.memberships[Role.OWNER]
    with receiver([410]) as service:
        row = join(owner, service.url, Browser.make())
        clip = clip_of(world.a.cameras[0])
        assert tasks.push(FakeTask(), str(owner.account_id), str(row.pk), str(clip.pk)) == "gone"
    with account_scope(world.a.account.pk):
        assert not PushSubscription.objects.filter(pk=row.pk).exists()
    assert len(service.received) == 1


def test_a_503_is_retried_with_backoff_and_the_subscription_kept(world: World):
    owner = world.a.memberships[Role.OWNER]
    with receiver([503]) as service:
        row = join(owner, service.url, Browser.make())
        task = FakeTask()
        with pytest.raises(Retry):
            tasks.push(task, str(owner.account_id), str(row.pk), str(clip_of(world.a.cameras[0]).pk))
    assert 15 <= task.countdowns[0] <= 30
    with account_scope(world.a.account.pk):
        assert PushSubscription.objects.filter(pk=row.pk).exists()


# --- Subscribing --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:6379/push", "https://10.0.0.5/push", "https://169.254.169.254/x", "http://[::1]/"]
)
def test_a_push_address_on_the_servers_network_is_refused_without_connecting(
    world: World, settings, monkeypatch, endpoint: str
):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []

    def no_connection(*args, **kwargs):
        pytest.fail(f"connected to {args}")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    with pytest.raises(ValidationError) as refused:
        join(world.a.memberships[Role.OWNER], endpoint, Browser.make())
    assert refused.value.message_dict == {"endpoint": ["This address is not allowed."]}
    with account_scope(world.a.account.pk):
        assert not PushSubscription.objects.exists()


def test_the_page_subscribes_a_browser_and_answers_bad_input_readably(world: World, settings):
    alice = client_for(world.a.owner)
    browser = Browser.make()
    url = reverse("notifications:push-subscribe")
    fields = {
        "household": str(world.a.account.pk),
        "endpoint": "https://push.example.net/send/1",
        "p256dh": browser.p256dh,
        "auth": b64url(browser.auth),
        "label": "Firefox on Linux",
    }
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    private = alice.post(url, {**fields, "endpoint": "http://127.0.0.1:8000/push"})
    assert private.status_code == 400
    assert private.json() == {"error": "This address is not allowed."}
    bad_keys = alice.post(url, {**fields, "p256dh": "AAAA", "endpoint": "http://127.0.0.1/x"})
    assert bad_keys.status_code == 400
    settings.NVR_CAMERA_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    bad_keys = alice.post(url, {**fields, "p256dh": "AAAA", "endpoint": "http://127.0.0.1/x"})
    assert bad_keys.json() == {"error": "The browser's push keys are not valid."}
    with account_scope(world.a.account.pk):
        assert not PushSubscription.objects.exists()
    # An allowed address (the tests allow 127.0.0.1, as the demo does).
    fields["endpoint"] = "http://127.0.0.1:9/send/1"
    made = alice.post(url, fields)
    assert made.status_code == 201
    assert alice.post(url, fields).json() == made.json()  # the same browser again: the same row
    second = alice.post(url, {**fields, "endpoint": "http://127.0.0.1:9/send/2"})
    assert second.status_code == 201
    page = alice.get(reverse("notifications:settings")).content.decode()
    assert "Firefox on Linux" in page
    assert "Turn on notifications in this browser" in page
    with account_scope(world.a.account.pk):
        rows = PushSubscription.objects.filter(membership=world.a.memberships[Role.OWNER])
        assert rows.count() == 2
        assert "send/1" not in "".join(rows.values_list("subscription_encrypted", flat=True))  # encrypted
        # Subscribing with no settings yet means "every camera I can see".
        assert NotificationSettings.objects.get(membership=world.a.memberships[Role.OWNER]).all_cameras


def test_a_person_has_a_bounded_number_of_browsers(world: World, monkeypatch):
    monkeypatch.setattr(services, "BROWSERS_MAX", 2)
    owner = world.a.memberships[Role.OWNER]
    join(owner, "http://127.0.0.1:9/1", Browser.make())
    join(owner, "http://127.0.0.1:9/2", Browser.make())
    join(owner, "http://127.0.0.1:9/2", Browser.make())  # the same browser again is not one more
    with pytest.raises(ValidationError) as refused:
        join(owner, "http://127.0.0.1:9/3", Browser.make())
    assert refused.value.message_dict == {"endpoint": ["You have 2 browsers turned on: turn one off first."]}
    join(world.a.memberships[Role.MEMBER], "http://127.0.0.1:9/3", Browser.make())  # per person


def test_a_person_turns_off_only_their_own_browsers(world: World):
    guard = {"household": str(world.a.account.pk)}
    owners = join(world.a.memberships[Role.OWNER], "http://127.0.0.1:9/owner", Browser.make())
    bobs = join(world.a.memberships[Role.MEMBER], "http://127.0.0.1:9/bob", Browser.make())
    bob = client_for(world.a.member)
    assert bob.post(reverse("notifications:push-remove", args=[owners.pk]), guard).status_code == 404
    assert bob.get(reverse("notifications:push-remove", args=[bobs.pk])).status_code == 405
    assert bob.post(reverse("notifications:push-remove", args=[bobs.pk]), guard).status_code == 302
    with account_scope(world.a.account.pk):
        assert list(PushSubscription.objects.values_list("pk", flat=True)) == [owners.pk]
    assert owners.pk.hex not in bob.get(reverse("notifications:settings")).content.decode().replace("-", "")


def test_the_test_button_pushes_to_the_persons_own_browsers_only(
    world: World, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.deliver_push, "delay", lambda *args: tasks.deliver_push.apply(args=args).get())
    mine, bobs = Browser.make(), Browser.make()
    with receiver([201], path="/mine") as my_service, receiver([201], path="/bob") as bob_service:
        join(world.a.memberships[Role.OWNER], my_service.url, mine)
        join(world.a.memberships[Role.MEMBER], bob_service.url, bobs)
        with django_capture_on_commit_callbacks(execute=True):
            answer = client_for(world.a.owner).post(
                reverse("notifications:test"), {"household": str(world.a.account.pk)}
            )
        assert answer.status_code == 302
    ((_, body, _),) = my_service.received
    payload = mine.decrypt(body)
    assert payload["camera"] == "Test notification"
    assert payload["url"].endswith(reverse("notifications:settings"))
    assert bob_service.received == []


# --- The service worker and the keys --------------------------------------------------------
def test_the_service_worker_is_served_at_the_root_for_every_page():
    from django.test import Client

    answer = Client().get(reverse("service-worker"))
    assert reverse("service-worker") == "/sw.js"
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/javascript")
    assert answer["Service-Worker-Allowed"] == "/"
    script = answer.content.decode()
    assert "showNotification" in script
    assert "openWindow" in script


def test_the_key_command_is_idempotent_and_the_environment_wins(settings, vapid_key: str):
    call_command("vapid_keys", stdout=io.StringIO(), stderr=io.StringIO())
    assert push.public_key() == vapid_key  # kept: browsers' subscriptions are bound to it
    assert oct(settings.NVR_VAPID_KEY_FILE.stat().st_mode & 0o777) == "0o600"
    other = ec.generate_private_key(ec.SECP256R1())
    settings.NVR_VAPID_PRIVATE_KEY = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert push.vapid_keys_ensure() == ("environment", False)
    expected = other.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert push.public_key() == b64url(expected)


def test_without_a_key_the_page_offers_no_button_and_nothing_is_sent(world: World, settings, tmp_path):
    with receiver([201]) as service:
        row = join(world.a.memberships[Role.OWNER], service.url, Browser.make())
        settings.NVR_VAPID_KEY_FILE = tmp_path / "missing.pem"
        page = client_for(world.a.owner).get(reverse("notifications:settings")).content.decode()
        assert "Turn on notifications in this browser" not in page
        clip = clip_of(world.a.cameras[0])
        assert tasks.push(FakeTask(), str(world.a.account.pk), str(row.pk), str(clip.pk)) == "not configured"
    assert service.received == []

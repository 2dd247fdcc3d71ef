"""Shared fixtures: two households with identical shapes, and their people.

Household A: alice (owner), bob (member), vera (viewer).
Household B: charlie (owner), dave (member), wendy (viewer) — outsiders to A.
Every test that touches tenant data has both, so a leak has something to leak.

``world`` has no clips: storing real encrypted clips and thumbnails costs about half of
making a household, and most tests never look at one. ``world_with_clips`` is the same
world with two clips per household; recordings/tests and the isolation matrices get it as
their ``world``. Reading ``household.recordings`` of a world without clips raises, so no
test can believe it checked clips it never had.
"""

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import setup_databases, teardown_databases
from django.urls import reverse
from django.utils import timezone, translation

from accounts.audit import record_access
from accounts.db_roles import grant_app_role, owner_connection
from accounts.models import AccessEvent, AccessKind, Account, Invitation, Membership, Role, User
from accounts.services import OPERATOR, account_create, invitation_create, member_add
from accounts.tenancy import account_scope
from accounts.tests.factories import PASSWORD, UserFactory
from devices.models import Camera, CameraKind
from devices.services import camera_create
from nvr.testing import LiveServer
from recordings.models import Recording, RecordingStatus
from recordings.tests.factories import make_recording
from tools.rtsp_testing import RtspServer
from tools.rtsp_testing import missing as rtsp_missing
from tools.synth import make_clip

__all__ = [
    "PASSWORD",
    "Household",
    "World",
    "client_for",
    "main_pages",
    "signed_in_with_password",
    "staff_client",
    "staff_user",
]


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker) -> Iterator[None]:
    """Create the test database as the owner role, then run the tests as the app role.

    On PostgreSQL with DATABASE_OWNER_URL this mirrors production: migrations
    run as the table owner; tests connect as the role RLS applies to. TRUNCATE
    is granted in the test database only (pytest-django's transactional tests
    flush with it); production never grants it.
    """
    with django_db_blocker.unblock():
        with owner_connection():
            config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
            grant_app_role(extra="TRUNCATE")
        connection.close()
    yield
    with django_db_blocker.unblock(), owner_connection():
        # A daphne the tests started may still be closing its database session
        # (a viewer's disconnect writes the end of its live view): give it a moment.
        for attempt in range(25):
            try:
                teardown_databases(config, verbosity=0)
                break
            except OperationalError as error:
                if "being accessed by other users" not in str(error) or attempt == 24:
                    raise
                time.sleep(0.2)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Counters (sign-in and token failures, rate limits) and dedupe keys live in the cache:
    every test starts from none, whatever ran before it from the same address."""
    cache.clear()


@pytest.fixture(autouse=True)
def _local_cameras_allowed(settings, monkeypatch) -> None:
    """The tests' cameras (MJPEG and RTSP servers) listen on 127.0.0.1, which camera addresses
    may not reach unless an operator allows it: the tests allow it, as the demo does. Tests
    of the refusals set their own list. The variable reaches the workers the tests start."""
    settings.NVR_CAMERA_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setenv("NVR_CAMERA_ALLOWED_NETWORKS", "127.0.0.1/32")


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """Every test starts and ends in the site's language: one that activates French (or a
    view that left it active) must not make the next test's English assertions French."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    # Argon2 is the production hasher (tested in test_login.py); tests that
    # create dozens of users use a fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Household:
    account: Account
    owner: User
    member: User
    viewer: User
    memberships: dict[str, Membership] = field(default_factory=dict)
    events: list[AccessEvent] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # the cameras' device tokens, in order
    clips: list[Recording] | None = None  # of cameras[0], newest first; None: made without (see recordings)
    upload_id: uuid.UUID | None = None  # an upload in progress, made on first use by the isolation matrix
    grant_id: uuid.UUID | None = None  # an owner's support grant, made on first use (support/tests/factories.py)

    @property
    def recordings(self) -> list[Recording]:
        if self.clips is None:
            raise LookupError(f"{self.account.name} was made without clips: request the world_with_clips fixture")
        return self.clips

    @property
    def people(self) -> dict[str, User]:
        return {Role.OWNER: self.owner, Role.MEMBER: self.member, Role.VIEWER: self.viewer}

    def ids(self) -> set[str]:
        """Every id and personal detail of this household that must never reach the other one."""
        values = {str(self.account.pk), self.account.name}
        values |= {str(m.pk) for m in self.memberships.values()}
        values |= {str(u.pk) for u in self.people.values()} | {u.email for u in self.people.values()}
        values |= {str(e.pk) for e in self.events}
        values |= {str(i.pk) for i in self.invitations} | {i.email for i in self.invitations}
        values |= {str(c.pk) for c in self.cameras} | {c.name for c in self.cameras}
        values |= {str(r.pk) for r in self.clips or []}
        return values


def make_household(name: str, owner: str, member: str, viewer: str) -> Household:
    users = {email: UserFactory.create(email=email) for email in (owner, member, viewer)}
    owner_membership = account_create(owner=users[owner], name=name)
    household = Household(owner_membership.account, users[owner], users[member], users[viewer])
    with account_scope(household.account.pk):
        household.memberships[Role.OWNER] = owner_membership
        household.memberships[Role.MEMBER] = member_add(actor=OPERATOR, email=member, role=Role.MEMBER)
        household.memberships[Role.VIEWER] = member_add(actor=OPERATOR, email=viewer, role=Role.VIEWER)
        household.events.append(
            record_access(
                account_id=household.account.pk,
                actor=users[member],
                membership=household.memberships[Role.MEMBER],
                kind=AccessKind.CLIP_PLAY,
                object_type="recording",
                object_id=owner_membership.pk,  # any uuid: recordings arrive with their issue
                object_label=f"{name} front door clip",
            )
        )
        guest = f"guest@{owner.split('@')[1]}"  # a pending invitation to someone outside
        household.invitations.append(invitation_create(actor=OPERATOR, email=guest, role=Role.VIEWER))
        camera, token = camera_create(actor=owner_membership, name=f"{name} porch", kind=CameraKind.PUSH)
        assert token is not None
        household.cameras.append(camera)
        household.tokens.append(token)
    return household


def add_clips(household: Household) -> None:
    """A ready clip of the household's first camera, with motion and thumbnail, and an older
    one still being processed: real H.264, stored encrypted."""
    camera = household.cameras[0]
    with account_scope(household.account.pk):
        household.clips = [
            make_recording(camera),
            make_recording(camera, started_at=timezone.now() - timedelta(hours=1), status=RecordingStatus.PROCESSING),
        ]


@dataclass
class World:
    a: Household
    b: Household


@pytest.fixture
def _households(db) -> World:
    return World(
        a=make_household("Atkins family", "alice@a.test", "bob@a.test", "vera@a.test"),
        b=make_household("Brown family", "charlie@b.test", "dave@b.test", "wendy@b.test"),
    )


@pytest.fixture
def world(_households: World) -> World:
    """Both households, their people, a camera each; no clips."""
    return _households


@pytest.fixture
def world_with_clips(_households: World) -> World:
    """The same world (one object with ``world``), and two clips per household."""
    for household in (_households.a, _households.b):
        if household.clips is None:
            add_clips(household)
    return _households


def main_pages(household: Household) -> dict[str, str]:
    """The portal's main pages for a household's owner, by name: what the CSP and
    page-loading tests open (nvr/tests/test_pages.py, devices/tests/test_browser.py)."""
    from django.urls import reverse

    camera, clip = household.cameras[0], household.recordings[0]
    return {
        "home": reverse("accounts:home"),
        "households": reverse("accounts:households"),
        "live grid": reverse("devices:grid"),
        "camera": reverse("devices:camera", args=[camera.pk]),
        "camera settings": reverse("devices:camera-edit", args=[camera.pk]),
        "add a camera": reverse("devices:camera-add"),
        "timeline": f"{reverse('recordings:timeline')}?camera={camera.pk}",
        "all cameras timeline": f"{reverse('recordings:timeline')}?all=1",
        "clip player": reverse("recordings:clip", args=[clip.pk]),
        "events": reverse("recordings:events"),
        "notifications": reverse("notifications:settings"),
        "members": reverse("accounts:members"),
        "change a role": reverse("accounts:member-edit", args=[household.memberships[Role.VIEWER].pk]),
        "access history": reverse("accounts:access-history"),
        "household settings": reverse("accounts:household-settings"),
        "storage": reverse("recordings:storage"),
        "confirm deleting a camera": reverse("devices:camera-delete", args=[camera.pk]),
        "api docs": reverse("api-docs"),
        "security": reverse("accounts:security"),
        "sessions": reverse("accounts:sessions"),
        "second factor": reverse("mfa_index"),
        "email address": reverse("account_email"),
        "change password": reverse("account_change_password"),
    }


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_user(role: str = "support", email: str | None = None) -> User:
    """A staff account made as operators make them (``manage.py staff create``), with a
    password set and an authenticator app enrolled."""
    from allauth.mfa.totp.internal.auth import TOTP

    from accounts.staff import StaffRole, staff_create

    user = staff_create(
        email=email or f"{role}-{uuid.uuid4().hex[:6]}@staff.test", full_name=f"Sam {role}", role=StaffRole(role)
    )
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    TOTP.activate(user, "JBSWY3DPEHPK3PXP")
    return user


def staff_client(role: str = "support", *, second_factor: bool = True, user: User | None = None) -> Client:
    """A signed-in staff member (``role``: "support" or "superuser"); by default the session
    used a second factor, as the support admin requires (``second_factor=False``: the
    password alone)."""
    from accounts.auth.policy import AUTHENTICATION_METHODS

    user = user or staff_user(role)
    client = client_for(user)
    session = client.session
    methods = [{"method": "password", "at": time.time(), "email": user.email}]
    if second_factor:
        methods.append({"method": "mfa", "at": time.time(), "type": "totp"})
    session[AUTHENTICATION_METHODS] = methods
    session.save()
    client.staff = user  # type: ignore[attr-defined]  # the tests' handle on who this is
    return client


def signed_in_with_password(user: User, password: str = PASSWORD, *, reauthenticated: bool = True) -> Client:
    """A browser that went through the real sign-in form (``client_for`` skips it), and,
    by default, confirmed the password again, as allauth asks before second-factor changes."""
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    assert "_auth_user_id" in client.session, f"{user.email} was not signed in (a second factor is asked for?)"
    if reauthenticated:
        response = client.post(reverse("account_reauthenticate"), {"password": password})
        assert response.status_code == 302, response.content.decode()[:500]
    return client


@pytest.fixture
def commit_each_request(django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each request's on-commit callbacks run as it ends, as after a real commit (the
    test's transaction never commits); those of a request rolled back are dropped."""
    original = Client.request

    def request(self: Client, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, **kwargs)

    monkeypatch.setattr(Client, "request", request)


@pytest.fixture
def alice(world: World) -> Client:
    """A's owner, signed in."""
    return client_for(world.a.owner)


@pytest.fixture
def bob(world: World) -> Client:
    """A's member, signed in."""
    return client_for(world.a.member)


@pytest.fixture
def vera(world: World) -> Client:
    """A's viewer, signed in."""
    return client_for(world.a.viewer)


@pytest.fixture
def charlie(world: World) -> Client:
    """B's owner: an outsider to A."""
    return client_for(world.b.owner)


@pytest.fixture
def asgi_server(django_db_setup: None, django_db_blocker) -> Iterator["LiveServer"]:
    """A real daphne process serving the test database (use with django_db(transaction=True)).

    One per test: it must be gone before pytest-django empties the tables, or
    its last writes (a closing socket records the end of its live view) race the
    TRUNCATE and deadlock on PostgreSQL.
    """
    from nvr.testing import daphne_server

    with django_db_blocker.unblock(), daphne_server() as server:
        yield server


# --- The RTSP camera (GStreamer, tools/rtsp_server.py) -------------------------------------

RTSP_USER, RTSP_PASSWORD = "viewer", "rtsp-secret-9d2f"


@pytest.fixture(scope="session")
def rtsp_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30 s 640x360 15 fps H.264 MP4, camera-like (keyframe every 2 s): longer than any test reads
    (the stream ends with the clip)."""
    path = tmp_path_factory.mktemp("rtsp") / "clip.mp4"
    make_clip(path, seconds=30, fps=15, width=640, height=360)
    return path


@pytest.fixture(scope="session")
def _rtsp_available() -> None:
    reason = rtsp_missing()
    if reason is not None:
        # A failure, not a skip, under NVR_REQUIRE_SERVICES=1 (.ci/run installs the packages).
        pytest.skip(f"RTSP test server unavailable: {reason}")


@pytest.fixture
def rtsp_server(_rtsp_available: None, rtsp_clip: Path) -> Iterator[RtspServer]:
    """``rtsp://RTSP_USER:RTSP_PASSWORD@127.0.0.1:<free port>/cam``, asking for those credentials.
    Tests using it are marked ``rtsp`` (below)."""
    with RtspServer(rtsp_clip, user=RTSP_USER, password=RTSP_PASSWORD) as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "rtsp_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.rtsp)

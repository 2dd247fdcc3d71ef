"""The isolation matrix: every route, method and role of household A, attacking household B.

Routes come from Django's resolver (which includes the DRF routers) and from the
websocket routing. Each route must be registered below in exactly one class; a
route nobody registered makes ``test_it_covers_every_route`` fail, so a new
route is attacked the day it is added.

Rules:
- object routes: A's owner, member and viewer, and a person who belongs to both
  households while A is active, asking for B's object get 404 (or 405 with an
  ``Allow`` header that excludes the method), never 200, 403 or 500, and B's rows
  are unchanged; bodies are valid forms (HTML routes) or JSON (API routes), so a
  lookup that let B's object through would act on it;
- list routes: A's people get their page, and it contains none of B's ids,
  names or emails;
- every route: anonymous gets a sign-in redirect / 401 / 403 / 405, never data;
  every response is ``Cache-Control: private, no-store`` and varies on Cookie;
- admin routes: a non-staff household owner is sent to the support login;
- websocket routes: a socket for B's object is refused before it is accepted.

Inside one household, ``test_isolation_matrix_cameras.py`` attacks with a member and a
viewer limited to some cameras: every camera-bound object route of another camera is
a 404, and lists and sockets leave it out.
"""

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import websockets
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from accounts.confirm import CONFIRMED
from accounts.crypto import encrypt_for_account
from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.models import AccessEvent, Account, Invitation, Membership, Role, User
from accounts.services import OPERATOR, member_add
from accounts.tenancy import account_scope, unscoped
from accounts.tests.factories import UserFactory
from conftest import Household, World, client_for, signed_in_with_password, staff_client
from devices.models import Camera, CameraAccess, DeviceToken
from notifications.models import PushSubscription
from notifications.push import Subscription
from notifications.selectors import PUSH_SUBSCRIPTION
from nvr.routing import websocket_urlpatterns
from recordings import files
from recordings.models import MotionEvent, Recording, ShareLink, Upload
from recordings.tests.factories import make_share_link
from support.models import SupportGrant
from support.tests.factories import grant_of


@pytest.fixture
def world(world_with_clips: World) -> World:
    """The matrix needs each household's clips and their files: something to leak."""
    return world_with_clips


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
ROLES = [Role.OWNER, Role.MEMBER, Role.VIEWER]
Kwargs = Callable[[Household], dict[str, Any]]


def _owner(household: Household) -> User:
    return household.owner


def _invitee(household: Household) -> User:
    email = household.invitations[0].email
    return User.objects.filter(email=email).first() or UserFactory.create(email=email)


@dataclass(frozen=True)
class ObjectRoute:
    kwargs: Kwargs  # how to name household h's object
    user: Callable[[Household], User] = _owner  # who may use the route on h's own object
    # Also attack it as a person who is in both households (A active). Not for
    # routes whose object such a person may rightly use (switching to B).
    dual: bool = True


# --- The registry: every route, in exactly one class ------------------------
OBJECT_ROUTES: dict[str, ObjectRoute] = {
    "accounts:household-switch": ObjectRoute(lambda h: {"account_id": h.account.pk}, dual=False),
    "accounts:member-edit": ObjectRoute(lambda h: {"membership_id": h.memberships[Role.VIEWER].pk}),
    "accounts:member-remove": ObjectRoute(lambda h: {"membership_id": h.memberships[Role.VIEWER].pk}),
    "accounts:invitation-revoke": ObjectRoute(lambda h: {"invitation_id": h.invitations[0].pk}),
    "accounts:invitation-accept": ObjectRoute(lambda h: {"invitation_id": h.invitations[0].pk}, user=_invitee),
    "accounts:invitation-decline": ObjectRoute(lambda h: {"invitation_id": h.invitations[0].pk}, user=_invitee),
    "api:member-detail": ObjectRoute(lambda h: {"pk": h.memberships[Role.VIEWER].pk}),
    "api:invitation-detail": ObjectRoute(lambda h: {"pk": h.invitations[0].pk}),
    "devices:camera": ObjectRoute(lambda h: {"camera_id": h.cameras[0].pk}),
    "devices:camera-status": ObjectRoute(lambda h: {"camera_id": h.cameras[0].pk}),
    "devices:camera-snapshot": ObjectRoute(lambda h: {"camera_id": h.cameras[0].pk}),
    "devices:camera-edit": ObjectRoute(lambda h: {"camera_id": h.cameras[0].pk}),
    "devices:camera-delete": ObjectRoute(lambda h: {"camera_id": h.cameras[0].pk}),
    "devices:camera-token-rotate": ObjectRoute(lambda h: {"camera_id": h.cameras[0].pk}),
    "devices:camera-token-revoke": ObjectRoute(lambda h: {"camera_id": h.cameras[0].pk}),
    "devices-api:camera-detail": ObjectRoute(lambda h: {"pk": h.cameras[0].pk}),
    "devices-api:camera-token": ObjectRoute(lambda h: {"pk": h.cameras[0].pk}),
    # Which cameras a member or viewer sees (owners set it).
    "devices:camera-access": ObjectRoute(lambda h: {"membership_id": h.memberships[Role.VIEWER].pk}),
    "devices-api:camera-access": ObjectRoute(lambda h: {"membership_id": h.memberships[Role.VIEWER].pk}),
    # Recordings: h.recordings[0] is a ready clip with a thumbnail.
    "recordings:clip": ObjectRoute(lambda h: {"recording_id": h.recordings[0].pk}),
    "recordings:clip-video": ObjectRoute(lambda h: {"recording_id": h.recordings[0].pk}),
    "recordings:clip-thumbnail": ObjectRoute(lambda h: {"recording_id": h.recordings[0].pk}),
    "recordings:clip-download": ObjectRoute(lambda h: {"recording_id": h.recordings[0].pk}),
    "recordings:clip-delete": ObjectRoute(lambda h: {"recording_id": h.recordings[0].pk}),
    "recordings-api:recording-detail": ObjectRoute(lambda h: {"pk": h.recordings[0].pk}),
    # Share links: making one for a clip, revoking one (a link of h's ready clip).
    "recordings:clip-share": ObjectRoute(lambda h: {"recording_id": h.recordings[0].pk}),
    "recordings:share-revoke": ObjectRoute(lambda h: {"link_id": share_link_of(h)}),
    # An owner ends the household's support grant.
    "support-grants:end": ObjectRoute(lambda h: {"grant_id": grant_of(h)}),
    # Turning off one browser's Web Push (h's owner's browser). Inside a household, another
    # person's browser is a 404 too: test_a_person_turns_off_only_their_own_browsers.
    "notifications:push-remove": ObjectRoute(lambda h: {"subscription_id": push_subscription_of(h)}),
}
# Routes without an object id that show the active household's data.
LIST_ROUTES = {
    "accounts:home",
    "accounts:households",
    "accounts:household-settings",
    "accounts:members",
    "accounts:access-history",
    "api:household",
    "api:member-list",
    "api:invitation-list",
    "api:accessevent-list",
    "devices:grid",
    "devices-api:camera-list",
    "recordings:timeline",
    "recordings:storage",
    # Motion events across the cameras the person may see (filters by camera and day).
    "recordings:events",
    "recordings:shares",
    "recordings-api:recording-list",
    "recordings-api:event-list",
    # The storage used and the quota (owners PUT it): test_quota.py checks B's is untouched.
    "recordings-api:storage",
    "support-grants:list",
    # A person's own notification settings: the cameras offered are those they may see.
    "notifications:settings",
}
# Routes for cameras, authenticated by a device token only (never a session).
DEVICE_ROUTES = {"devices-api:device-heartbeat", "recordings-upload:upload-create"}
# Device routes that take an object id: how to name household h's camera's object.
# A session gets 401/403; another household's camera gets 404 (test below).
DEVICE_OBJECT_ROUTES: dict[str, Kwargs] = {"recordings-upload:upload": lambda h: {"upload_id": upload_of(h)}}
# Routes for whoever holds a share link's secret (no session): the secret is the identity and
# names one clip. Attacked with B's links forged, expired and revoked, and with A's genuine one
# (test_share_links_reach_only_their_own_clip).
SHARE_LINK_ROUTES = {"shared:page", "shared:video", "shared:thumbnail"}
# Signed-in actions in one's own household or on one's own account, without an object id.
# (camera-add is a form for owners and members: a viewer gets 403 in their own household;
# camera-test, its "Test connection", answers the same and names no object.)
ACTION_ROUTES = {
    "devices:camera-add",
    "devices:camera-test",
    "accounts:security",
    "accounts:time-zone",
    "accounts:language",
    # django-allauth: the person's own address, password, second factor and sessions.
    "account_email",
    "account_change_password",
    "account_set_password",
    "account_reauthenticate",
    "account_request_reauthentication_code",
    "account_confirm_reauthentication_code",
    "mfa_index",
    "mfa_reauthenticate",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "mfa_list_webauthn",
    "mfa_add_webauthn",
    "mfa_reauthenticate_webauthn",
    "accounts:sessions",
    "accounts:sessions-end-others",
    # A person's own notifications: a test message to themselves, a new webhook secret
    # (notifications/tests/test_notification_views.py: B's rows are untouched).
    "notifications:test",
    "notifications:secret",
    # This browser subscribes to Web Push, for the person signed in (notifications/tests/test_push.py).
    "notifications:push-subscribe",
}
# Routes on an object that belongs to a person, not a household (their passkeys): another
# person's object is a 404 and stays unchanged (test_user_objects_of_another_person_are_404).
USER_OBJECT_ROUTES: dict[str, Callable[[User], dict[str, Any]]] = {
    "mfa_remove_webauthn": lambda user: {"pk": passkey_of(user)},
    "mfa_edit_webauthn": lambda user: {"pk": passkey_of(user)},
    "accounts:session-end": lambda user: {"session_id": session_of(user)},
}
# Routes for signed-out people. Confirmation and reset links carry a signed or random key
# (a credential, not an object id); the second-factor step needs a password checked first.
PUBLIC_ROUTES = {
    "account_login",
    "account_signup",
    "account_logout",
    "account_inactive",
    "account_email_verification_sent",
    "account_confirm_email",
    "account_confirm_login_code",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "mfa_authenticate",
    "mfa_login_webauthn",
    # The Web Push service worker: a static script at the root (no data of anyone's).
    "service-worker",
    # The pages' scripts' words in the active language: the same for everyone, no data.
    "javascript-catalog",
}
# Signed-in pages that show no household's data: the API's description and its docs
# (anonymous gets the sign-in redirect or 403, like every other non-public route).
SIGNED_IN_ROUTES = {"api-schema", "api-docs"}
# The support viewer: staff only, under the household's grant named in the URL (attacked in
# test_isolation_matrix_support.py): how to name household h's grant and objects.
SUPPORT_VIEWER_ROUTES: dict[str, Kwargs] = {
    "support:grants": lambda h: {},
    "support:grant": lambda h: {"grant_id": grant_of(h)},
    "support:live": lambda h: {"grant_id": grant_of(h), "camera_id": h.cameras[0].pk},
    "support:clip": lambda h: {"grant_id": grant_of(h), "recording_id": h.recordings[0].pk},
    "support:clip-video": lambda h: {"grant_id": grant_of(h), "recording_id": h.recordings[0].pk},
    "support:clip-thumbnail": lambda h: {"grant_id": grant_of(h), "recording_id": h.recordings[0].pk},
}
# The support admin: its own rule (staff only; see accounts/tests/test_admin.py).
ADMIN_NAMESPACE = "admin"
# Websocket routes for people: how to name household h's object in the path.
WEBSOCKET_ROUTES: dict[str, Kwargs] = {"live-view": lambda h: {"camera_id": h.cameras[0].pk}}
# Websocket routes of the support viewer (test_isolation_matrix_support.py).
SUPPORT_WEBSOCKETS: dict[str, Kwargs] = {
    "support-live-view": lambda h: {"grant_id": grant_of(h), "camera_id": h.cameras[0].pk}
}
# Websocket routes for cameras (device token, no session, no Origin).
DEVICE_WEBSOCKETS = {"device-socket"}

ALL_HTTP = (
    set(OBJECT_ROUTES)
    | LIST_ROUTES
    | ACTION_ROUTES
    | PUBLIC_ROUTES
    | SIGNED_IN_ROUTES
    | DEVICE_ROUTES
    | set(DEVICE_OBJECT_ROUTES)
    | set(USER_OBJECT_ROUTES)
    | set(SUPPORT_VIEWER_ROUTES)
    | SHARE_LINK_ROUTES
)

# Counted by this module and by test_isolation_matrix_cameras (a person limited to some cameras).
ATTACKS = {"http": 0, "websocket": 0, "limited_http": 0, "limited_websocket": 0}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    params: tuple[str, ...]


def walk(patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            continue
        params = tuple(getattr(entry.pattern, "converters", {}) or entry.pattern.regex.groupindex)
        local = entry.name or f"<unnamed {entry.pattern}>"
        yield Route(f"{namespace}:{local}" if namespace else local, prefix + str(entry.pattern), params)


def http_routes() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


def websocket_routes() -> list[Route]:
    return list(walk(websocket_urlpatterns))


def is_admin(route: Route) -> bool:
    return route.name.split(":")[0] == ADMIN_NAMESPACE


def snapshot(household: Household) -> tuple[Any, ...]:
    """Everything of the household's that an attack could change."""
    with unscoped("isolation matrix: snapshot"):
        account = Account.objects.filter(pk=household.account.pk).values_list("name", flat=True).get()
        members = sorted(
            Membership.objects.filter(account=household.account).values_list(
                "id", "user_id", "role", "camera_access_limited"
            )
        )
        access = sorted(
            CameraAccess.objects.filter(account=household.account).values_list("membership_id", "camera_id")
        )
        events = sorted(AccessEvent.objects.filter(account=household.account).values_list("id", "membership_id"))
        invitations = sorted(Invitation.objects.filter(account=household.account).values_list("id", "email", "role"))
        cameras = sorted(Camera.objects.filter(account=household.account).values_list("id", "name", "enabled"))
        tokens = sorted(DeviceToken.objects.filter(account=household.account).values_list("id", "revoked_at"))
        clips = sorted(Recording.objects.filter(account=household.account).values_list("id", "status"))
        motion = sorted(
            MotionEvent.objects.filter(account=household.account).values_list("id", "recording_id", "started_at")
        )
        uploads = sorted(
            Upload.objects.filter(account=household.account).values_list("id", "offset", "length", "expires_at")
        )
        grants = sorted(SupportGrant.objects.filter(account=household.account).values_list("id", "ended_at"))
        links = sorted(
            ShareLink.objects.filter(account=household.account).values_list(
                "id", "recording_id", "token_hash", "expires_at", "revoked_at", "views"
            )
        )
        browsers = sorted(
            PushSubscription.objects.filter(account=household.account).values_list(
                "id", "membership_id", "endpoint_sha256", "subscription_encrypted"
            )
        )
    # A route that removed B's files but kept the rows would leave clips that cannot play.
    stored = [
        (clip_id, kind, files.clip_storage.exists(account_id=household.account.pk, object_id=clip_id, kind=kind))
        for clip_id, _status in clips
        for kind in (files.CLIP, files.THUMBNAIL)
    ]
    return (
        account,
        members,
        access,
        events,
        invitations,
        cameras,
        tokens,
        clips,
        motion,
        uploads,
        grants,
        links,
        browsers,
        stored,
    )


def request(client: Client, method: str, path: str, household: Household | None = None) -> Any:
    """A request whose body would do harm if the lookup let it through."""
    fields = {"role": "owner", "email": "mallory@x.test", "name": "pwned"}
    if path.startswith("/api/"):
        return client.generic(method, path, json.dumps(fields), content_type="application/json")
    if household is not None:
        fields["household"] = str(household.account.pk)  # the guard a real form carries
    fields |= CONFIRMED  # as from a confirmation page: a destructive route would act at once
    return client.generic(method, path, urlencode(fields), content_type="application/x-www-form-urlencoded")


def assert_private(response: Any, where: str) -> None:
    assert response["Cache-Control"] == "private, no-store", f"{where}: cacheable response"
    assert "Cookie" in response.get("Vary", ""), f"{where}: no Vary: Cookie"


# --- Coverage ----------------------------------------------------------------
def test_it_covers_every_route():
    known = ALL_HTTP
    names = {r.name for r in http_routes() if not is_admin(r)}
    assert names - known == set(), f"routes the isolation matrix does not cover: {sorted(names - known)}"
    assert known - names == set(), f"stale entries in the isolation matrix: {sorted(known - names)}"
    ws_names = {r.name for r in websocket_routes()}
    ws_known = set(WEBSOCKET_ROUTES) | DEVICE_WEBSOCKETS | set(SUPPORT_WEBSOCKETS)
    assert ws_names == ws_known, f"websocket routes not covered (or stale): {ws_names ^ ws_known}"


def test_every_route_with_an_id_is_an_object_route():
    for route in http_routes():
        exempt = (
            PUBLIC_ROUTES
            | SHARE_LINK_ROUTES
            | set(DEVICE_OBJECT_ROUTES)
            | set(USER_OBJECT_ROUTES)
            | set(SUPPORT_VIEWER_ROUTES)
        )
        if route.params and not is_admin(route) and route.name not in exempt:
            assert route.name in OBJECT_ROUTES, f"{route.name} takes {route.params}: register it as an object route"


def test_it_would_fail_on_an_unknown_route(settings):
    """The coverage check itself: a route added without registering it is reported."""
    from django.urls import clear_url_caches, path

    from nvr import urls as root_urls

    settings.ROOT_URLCONF = type(
        "Extended",
        (),
        {"urlpatterns": [*root_urls.urlpatterns, path("new/<uuid:x>/", lambda r, x: HttpResponse(), name="x")]},
    )
    clear_url_caches()
    try:
        with pytest.raises(AssertionError, match="does not cover"):
            test_it_covers_every_route()
    finally:
        clear_url_caches()


def test_the_snapshot_sees_files_events_and_uploads(world: World):
    """The matrix's "B unchanged" check itself: a route that removed B's clip file,
    thumbnail or motion events, or moved B's upload, while keeping the rows, is caught."""
    recording = world.b.recordings[0]
    upload_of(world.b)
    changes: list[Callable[[], object]] = [
        lambda: files.clip_storage.delete(account_id=recording.account_id, object_id=recording.pk, kind=files.CLIP),
        lambda: files.clip_storage.delete(
            account_id=recording.account_id, object_id=recording.pk, kind=files.THUMBNAIL
        ),
        lambda: MotionEvent.objects.filter(recording=recording).delete(),
        lambda: Upload.objects.update(offset=0),
    ]
    for number, change in enumerate(changes):
        before = snapshot(world.b)
        with account_scope(world.b.account.pk):
            change()
        assert snapshot(world.b) != before, f"change {number} went unseen"


# --- Object routes ---------------------------------------------------------------
def dual_member(world: World) -> User:
    """Owner in A and viewer in B, with A active: B's objects stay out of reach until they switch."""
    person = UserFactory.create(email="dual@both.test")
    with account_scope(world.b.account.pk):
        member_add(actor=OPERATOR, email=person.email, role=Role.VIEWER)
    with account_scope(world.a.account.pk):
        member_add(actor=OPERATOR, email=person.email, role=Role.OWNER)
    return person


@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_a_household_cannot_reach_anothers_object(name, world: World):
    route = OBJECT_ROUTES[name]
    actors = {str(role): world.a.people[role] for role in ROLES}
    if route.dual:
        actors["member of both, A active"] = dual_member(world)
    path = reverse(name, kwargs=route.kwargs(world.b))  # first: it may make the object
    before = snapshot(world.b)
    for label, user in actors.items():
        client = client_for(user)
        session = client.session
        session[ACTIVE_ACCOUNT_SESSION_KEY] = str(world.a.account.pk)
        session.save()
        for method in METHODS:
            response = request(client, method, path, household=world.a)
            where = f"{label}: {method} {path} ({name})"
            ATTACKS["http"] += 1
            assert response.status_code in (404, 405), f"{where} answered {response.status_code}"
            if response.status_code == 405:
                assert method not in response["Allow"], f"{where}: 405 but Allow lists {method}"
            assert_private(response, where)
        assert client.session.get(ACTIVE_ACCOUNT_SESSION_KEY) != str(world.b.account.pk)
    assert snapshot(world.b) == before, f"{name}: B's rows changed"


@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_the_same_route_works_for_the_households_own_object(name, world: World):
    """Guards the matrix against passing for the wrong reason (a route that always 404s)."""
    route = OBJECT_ROUTES[name]
    client = client_for(route.user(world.a))
    path = reverse(name, kwargs=route.kwargs(world.a))
    response = client.get(path)
    # A destructive route's GET is its confirmation page: confirm, so that it really acts.
    confirming = not response.streaming and b'data-testid="confirmation"' in response.content
    if response.status_code == 405 or confirming:
        body = {"role": "member", "household": str(world.a.account.pk), **CONFIRMED}
        response = client.generic("POST", path, urlencode(body), content_type="application/x-www-form-urlencoded")
    if response.status_code == 405:  # API: a detail route answers GET
        response = client.get(path)
    assert response.status_code in (200, 201, 302), f"{name} on A's own object answered {response.status_code}"
    errors = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert errors == [], f"{name} on A's own object failed: {errors}"


# --- List routes -------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LIST_ROUTES))
def test_lists_contain_nothing_of_another_household(name, world: World):
    path = reverse(name)
    secrets = world.b.ids()
    for role in ROLES:
        response = client_for(world.a.people[role]).get(path)
        where = f"{role} of A: GET {path}"
        ATTACKS["http"] += 1
        assert response.status_code == 200, f"{where} answered {response.status_code}"
        body = response.content.decode()
        leaked = sorted(s for s in secrets if s in body)
        assert leaked == [], f"{where} shows B's data: {leaked}"
        assert_private(response, where)


def test_list_routes_do_show_the_households_own_data(world: World):
    """The leak check above is only meaningful if the lists show something."""
    body = client_for(world.a.owner).get(reverse("accounts:members")).content.decode()
    assert world.a.member.email in body
    body = client_for(world.a.owner).get(reverse("api:accessevent-list")).content.decode()
    assert str(world.a.events[0].pk) in body


# --- Anonymous ------------------------------------------------------------------------
def test_anonymous_gets_nothing_anywhere(world: World):
    client = Client()
    for route in http_routes():
        if route.name in PUBLIC_ROUTES or route.name in SHARE_LINK_ROUTES or is_admin(route):
            continue  # share links: test_share_links_reach_only_their_own_clip
        kwargs = OBJECT_ROUTES[route.name].kwargs(world.b) if route.name in OBJECT_ROUTES else {}
        if route.name in DEVICE_OBJECT_ROUTES:
            kwargs = DEVICE_OBJECT_ROUTES[route.name](world.b)
        if route.name in USER_OBJECT_ROUTES:
            kwargs = USER_OBJECT_ROUTES[route.name](world.b.owner)
        if route.name in SUPPORT_VIEWER_ROUTES:
            kwargs = SUPPORT_VIEWER_ROUTES[route.name](world.b)
        path = reverse(route.name, kwargs=kwargs)
        for method in METHODS:
            response = request(client, method, path)
            ATTACKS["http"] += 1
            where = f"anonymous {method} {path}"
            assert response.status_code in (302, 401, 403, 405), f"{where} answered {response.status_code}"
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("account_login")), where
            assert_private(response, where)


# --- Admin ----------------------------------------------------------------------------
def admin_kwargs(route: Route, world: World) -> dict[str, Any]:
    values = {
        "object_id": str(world.b.account.pk),
        "app_label": "accounts",
        "content_type_id": 1,
        "url": "anything/",
        "uidb64": "x",
        "token": "y",
    }
    return {param: values[param] for param in route.params}


def admin_attacks(world: World, client: Client, skip: set[str]) -> Iterator[tuple[Any, str]]:
    """Every admin route (GET and POST) as ``client``: each response, and where it came from."""
    for route in http_routes():
        if not is_admin(route) or route.name in skip:
            continue
        try:
            path = reverse(route.name, kwargs=admin_kwargs(route, world))
        except Exception:  # unnamed catch-all: any unknown admin path
            path = "/support/" + "anything/"
        for method in ("GET", "POST"):
            ATTACKS["http"] += 1
            yield request(client, method, path), f"{method} {path} ({route.name})"


def test_admin_routes_send_non_staff_to_the_support_login(world: World):
    login = reverse("admin:login")
    for response, where in admin_attacks(world, client_for(world.a.owner), {"admin:login", "admin:logout"}):
        assert response.status_code in (302, 404), f"non-staff {where} answered {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith(login), where


@pytest.mark.parametrize("role", ["support", "superuser"])
def test_admin_routes_refuse_a_staff_session_without_the_second_factor(world: World, role: str):
    """A staff password alone (a phished or reused one) opens no admin page, GET or POST:
    every route sends the session to confirm the second factor, and shows nothing."""
    client = staff_client(role, second_factor=False)
    confirm = reverse("mfa_reauthenticate")
    secrets = world.a.ids() | world.b.ids()
    for response, where in admin_attacks(world, client, {"admin:logout"}):
        assert response.status_code in (302, 404), f"password-only {role} {where} answered {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith(confirm), where
        body = response.content.decode(errors="replace")
        assert not [value for value in secrets if value in body], where


# --- Cameras' routes ---------------------------------------------------------------
def swapped_token(token: str, household: Household) -> str:
    """A genuine token of one household, relabelled with another household's id."""
    prefix, _account, token_id, secret = token.split(".")
    return ".".join([prefix, household.account.pk.hex, token_id, secret])


def device_post(name: str, path: str, token: str) -> Any:
    """A valid request for the device route (an upload creation carries tus headers and a clip)."""
    if name == "recordings-upload:upload-create":
        from tools.upload_testing import create

        data = b"a short clip" * 100
        return create(token, data, body=data)
    return Client().post(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def camera_of_device_response(name: str, response: Any, household: Household) -> str:
    """Which camera the device route acted for."""
    if name == "recordings-upload:upload-create":
        with account_scope(household.account.pk):
            return str(Recording.objects.get(pk=response["Recording-Id"]).camera_id)
    return str(response.json()["camera"]["id"])


# --- A person's own objects (passkeys, sessions) -----------------------------------------
def passkey_of(user: User) -> int:
    """A passkey row of ``user`` (its credential is never used: the routes only name it)."""
    found = Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).first()
    if found is None:
        found = Authenticator.objects.create(
            user=user, type=Authenticator.Type.WEBAUTHN, data={"name": f"{user.email} key", "credential": {}}
        )
    return int(found.pk)


def session_of(user: User) -> int:
    """One of ``user``'s sign-in sessions (made by signing in, as a browser would)."""
    found = UserSession.objects.filter(user=user).first()
    if found is None:
        signed_in_with_password(user, reauthenticated=False)
        found = UserSession.objects.get(user=user)
    return int(found.pk)


def user_objects(user: User) -> tuple[Any, ...]:
    return (
        sorted(Authenticator.objects.filter(user=user).values_list("id", "data")),
        sorted(UserSession.objects.filter(user=user).values_list("id", "session_key")),
    )


def test_user_objects_of_another_person_are_404(world: World):
    """Every person of A, and the person in both households, naming B's owner's passkey or session."""
    victim = world.b.owner
    paths = [reverse(name, kwargs=kwargs(victim)) for name, kwargs in sorted(USER_OBJECT_ROUTES.items())]
    before = user_objects(victim)
    for person in [*world.a.people.values(), dual_member(world)]:
        # Password confirmed just now, so the recent-sign-in check passes and the lookup runs.
        client = signed_in_with_password(person)
        for path in paths:
            for method in METHODS:
                response = request(client, method, path)
                ATTACKS["http"] += 1
                where = f"{person.email} {method} {path}"
                assert response.status_code in (404, 405), f"{where} answered {response.status_code}"
                assert_private(response, where)
    assert user_objects(victim) == before


def test_user_object_routes_work_for_ones_own_object(world: World):
    client = signed_in_with_password(world.a.owner)  # before the key exists: a password is then enough
    own = passkey_of(world.a.owner)
    assert client.get(reverse("mfa_edit_webauthn", kwargs={"pk": own})).status_code == 200
    assert client.post(reverse("mfa_remove_webauthn", kwargs={"pk": own})).status_code == 302
    assert not Authenticator.objects.filter(pk=own).exists()
    other = UserSession.objects.exclude(session_key=client.session.session_key).filter(user=world.a.owner)
    signed_in_with_password(world.a.owner, reauthenticated=False)
    [elsewhere] = other
    assert client.post(reverse("accounts:session-end", kwargs={"session_id": elsewhere.pk})).status_code == 302
    assert not UserSession.objects.filter(pk=elsewhere.pk).exists()


def test_device_routes_take_only_a_device_token(world: World):
    for name in sorted(DEVICE_ROUTES):
        path = reverse(name)
        for user in world.a.people.values():
            response = request(client_for(user), "POST", path)
            ATTACKS["http"] += 1
            assert response.status_code in (401, 403), f"a session reached {name}: {response.status_code}"
        forged = swapped_token(world.b.tokens[0], world.a)
        response = device_post(name, path, forged)
        ATTACKS["http"] += 1
        assert response.status_code == 401, f"B's token relabelled as A's reached {name}"
        own = device_post(name, path, world.a.tokens[0])
        assert own.status_code in (200, 201), f"A's own token was refused by {name}"
        assert camera_of_device_response(name, own, world.a) == str(world.a.cameras[0].pk)


def upload_of(household: Household) -> uuid.UUID:
    """An upload in progress of the household's camera (1 of 2 MiB received), made once per household."""
    from tools.upload_testing import MIB, create, patch

    if household.upload_id is not None:
        return household.upload_id
    data = bytes(2 * MIB)
    location = create(household.tokens[0], data)["Location"]
    assert patch(household.tokens[0], location, 0, data[:MIB]).status_code == 204
    upload_id = uuid.UUID(location.rstrip("/").rsplit("/", 1)[1])
    household.upload_id = upload_id
    return upload_id


def upload_snapshot(household: Household) -> tuple[Any, ...]:
    from recordings.upload.partials import partial_path

    with unscoped("isolation matrix: snapshot of uploads"):
        rows = sorted(
            Upload.objects.filter(account=household.account).values_list("id", "offset", "length", "expires_at")
        )
    contents = [partial_path(household.account.pk, row[0]).read_bytes() for row in rows]
    return rows, contents


@pytest.mark.parametrize("name", sorted(DEVICE_OBJECT_ROUTES))
def test_device_object_routes_reach_only_the_cameras_own_objects(name, world: World):
    """Sessions are refused; A's genuine token on B's object gets 404 and B's object is unchanged;
    A's token on A's own object works."""
    from tools.upload_testing import MIB, call, patch

    theirs = reverse(name, kwargs=DEVICE_OBJECT_ROUTES[name](world.b))
    mine = reverse(name, kwargs=DEVICE_OBJECT_ROUTES[name](world.a))
    before = upload_snapshot(world.b)
    for role, user in world.a.people.items():
        for method in METHODS:
            for path in (theirs, mine):
                response = request(client_for(user), method, path)
                ATTACKS["http"] += 1
                where = f"{role} of A (session): {method} {path}"
                assert response.status_code in (401, 403, 405), f"{where} answered {response.status_code}"
                assert_private(response, where)
    token = world.a.tokens[0]
    for method in ("HEAD", "PATCH", "DELETE"):
        response = patch(token, theirs, MIB, bytes(MIB)) if method == "PATCH" else call(method, token, theirs)
        ATTACKS["http"] += 1
        where = f"A's camera: {method} {theirs}"
        assert response.status_code == 404, f"{where} answered {response.status_code}"
        assert_private(response, where)
    forged = swapped_token(world.b.tokens[0], world.a)
    assert call("HEAD", forged, theirs).status_code == 401
    assert upload_snapshot(world.b) == before, f"{name}: B's upload changed"
    assert call("HEAD", token, mine).status_code == 200
    assert patch(token, mine, MIB, bytes(MIB)).status_code == 204


# --- Websockets -----------------------------------------------------------------------
async def socket_opens(url: str, headers: list[tuple[str, str]], origin: str | None) -> bool:
    """True if the socket was accepted; a refusal must be the handshake's 403, before any accept."""
    try:
        socket = await websockets.connect(
            url, additional_headers=headers, origin=Origin(origin) if origin else None, open_timeout=5
        )
    except InvalidStatus as refused:
        status = refused.response.status_code
    else:
        await socket.close()
        return True
    assert status == 403, f"{url} refused with {status}, not 403 before accept"
    return False


@pytest.mark.django_db(transaction=True)
def test_websockets_for_another_households_object_are_refused(asgi_server, world: World):
    """Over real sockets: refused at the handshake (403), before any accept."""

    def cookie(user: User) -> str:
        return f"sessionid={client_for(user).cookies['sessionid'].value}"

    async def opens(path: str, headers: list[tuple[str, str]], origin: str | None = None) -> bool:
        return await socket_opens(f"{asgi_server.ws}{path}", headers, origin)

    async def attack() -> None:
        actors = {str(role): world.a.people[role] for role in ROLES}
        actors["member of both, A active"] = dual
        for name, kwargs in WEBSOCKET_ROUTES.items():
            route = next(r for r in websocket_routes() if r.name == name)
            theirs = "/" + route_path(route, kwargs(world.b))
            mine = "/" + route_path(route, kwargs(world.a))
            for label in actors:
                # Both formats: JPEG, and MP4 for browsers with Media Source Extensions.
                for query in ("", "?format=mp4"):
                    ATTACKS["websocket"] += 1
                    assert not await opens(theirs + query, [("Cookie", cookies[label])], asgi_server.origin), (
                        f"{label} opened {theirs}{query}"
                    )
            # The same socket opens for A's own object (the check is not vacuous),
            # and a foreign Origin is refused even with a valid session.
            assert await opens(mine, [("Cookie", cookies[str(Role.VIEWER)])], asgi_server.origin)
            assert not await opens(mine, [("Cookie", cookies[str(Role.VIEWER)])], "http://evil.example")
        for name in DEVICE_WEBSOCKETS:
            route = next(r for r in websocket_routes() if r.name == name)
            path = "/" + route_path(route, {})
            ATTACKS["websocket"] += 3
            assert not await opens(path, [("Cookie", cookies[str(Role.OWNER)])]), "a session opened the camera socket"
            forged = swapped_token(world.b.tokens[0], world.a)
            assert not await opens(path, [("Authorization", f"Bearer {forged}")]), "a relabelled token opened it"
            assert not await opens(path, []), "no token opened it"
            assert await opens(path, [("Authorization", f"Bearer {world.a.tokens[0]}")])

    dual = dual_member(world)
    cookies = {str(role): cookie(world.a.people[role]) for role in ROLES}
    dual_client = client_for(dual)
    session = dual_client.session
    session[ACTIVE_ACCOUNT_SESSION_KEY] = str(world.a.account.pk)
    session.save()
    cookies["member of both, A active"] = f"sessionid={dual_client.cookies['sessionid'].value}"
    asyncio.run(attack())


def route_path(route: Route, kwargs: dict[str, Any]) -> str:
    path = route.pattern
    for key, value in kwargs.items():
        path = re.sub(rf"<(?:\w+:)?{key}>", str(value), path)
    return path


def test_ids_in_urls_are_opaque(world: World):
    for name, route in OBJECT_ROUTES.items():
        for value in route.kwargs(world.a).values():
            assert isinstance(value, uuid.UUID), f"{name} exposes a guessable id"


# --- Share links ------------------------------------------------------------------------
def push_subscription_of(household: Household) -> uuid.UUID:
    """A browser of the household's owner subscribed to Web Push, made on first use (its keys are
    never used: the route only names it)."""
    owner = household.memberships[Role.OWNER]
    with account_scope(household.account.pk):
        found = PushSubscription.objects.filter(membership=owner).values_list("pk", flat=True).first()
        if found is not None:
            return found
        target = Subscription(endpoint=f"https://push.example/{owner.pk}", p256dh="x", auth="y")
        return PushSubscription.objects.create(
            account_id=household.account.pk,
            membership=owner,
            endpoint_sha256=owner.pk.hex,
            subscription_encrypted=encrypt_for_account(household.account.pk, PUSH_SUBSCRIPTION, target.as_json()),
        ).pk


def share_link_of(household: Household) -> uuid.UUID:
    """An active share link of the household's ready clip, made on first use."""
    recording = household.recordings[0]
    with account_scope(household.account.pk):
        existing = ShareLink.objects.filter(recording=recording, revoked_at__isnull=True).values_list("pk", flat=True)
        found = existing.first()
    return found if found is not None else make_share_link(household, recording=recording)[0].pk


def dead_and_forged_secrets(household: Household) -> list[str]:
    """Secrets that must open nothing: the household's link with a character changed, its hash,
    its id, its clip's id, and its links once expired and once revoked."""
    link, secret = make_share_link(household)
    expired, expired_secret = make_share_link(household, lifetime="1h")
    revoked, revoked_secret = make_share_link(household)
    with account_scope(household.account.pk):
        ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        ShareLink.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    return [changed, link.token_hash, str(link.pk), str(household.recordings[0].pk), expired_secret, revoked_secret]


@pytest.mark.parametrize("name", sorted(SHARE_LINK_ROUTES))
def test_share_links_reach_only_their_own_clip(name, world: World):
    """B's links forged, expired or revoked open nothing for anyone, with every method; A's
    genuine link answers GET and HEAD with A's clip only, whoever is signed in."""
    attempts = dead_and_forged_secrets(world.b)
    _mine, secret_a = make_share_link(world.a)
    clients = {"anonymous": Client()} | {f"{role} of A": client_for(world.a.people[role]) for role in ROLES}
    clients["member of both, A active"] = client_for(dual_member(world))
    clients["owner of B"] = client_for(world.b.owner)
    before = snapshot(world.b)  # after the person in both households joined B
    for label, client in clients.items():
        for secret in attempts:
            path = reverse(name, kwargs={"token": secret})
            for method in METHODS:
                response = request(client, method, path)
                where = f"{label}: {method} {path} ({name})"
                ATTACKS["http"] += 1
                assert response.status_code in (404, 405), f"{where} answered {response.status_code}"
                if response.status_code == 405:
                    assert method not in response["Allow"], f"{where}: 405 but Allow lists {method}"
                assert_private(response, where)
        # A's genuine link, with B's ids added where a leaky view might read them.
        path = reverse(name, kwargs={"token": secret_a})
        query = f"?recording_id={world.b.recordings[0].pk}&account={world.b.account.pk}"
        for method in METHODS:
            response = request(client, method, path + query)
            where = f"{label}: {method} A's link ({name})"
            ATTACKS["http"] += 1
            if method in ("GET", "HEAD"):
                assert response.status_code == 200, f"{where} answered {response.status_code}"
                assert response["Referrer-Policy"] == "no-referrer", where
                assert "noindex" in response["X-Robots-Tag"], where
            else:
                assert response.status_code == 405, f"{where} answered {response.status_code}"
                assert method not in response["Allow"], where
            assert_private(response, where)
            content = b"".join(response.streaming_content) if response.streaming else response.content
            text = content.decode(errors="replace")
            leaked = sorted(s for s in world.b.ids() if s in text)
            assert leaked == [], f"{where} shows B's data: {leaked}"
    assert snapshot(world.b) == before, f"{name}: B's rows changed"

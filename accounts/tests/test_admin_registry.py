"""The whole support admin, walked: every registered model (ours and third-party, so a model
registered tomorrow is covered the day it is added), every page and every action, as a
support-group member and as a superuser, both with a second factor in the session.

Nothing may show a secret (stream address, device token or its hash, second-factor key or
recovery code, session key, encryption key) or media bytes, and no form may change a row.
"""

import io
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tenancy import account_scope, unscoped
from conftest import World, staff_client
from devices.models import CameraKind, DeviceToken
from devices.services import camera_create, camera_update
from recordings import files
from recordings.models import RecordingStatus
from recordings.tests.factories import make_recording

STREAM = "rtsp://marker-user:marker-pass@127.0.0.1/marker-stream"
TOTP_SECRET = "MARKERSECRETMARKERSECRETMARKER22"
HARMFUL = {
    "name": "pwned",
    "email": "mallory@x.test",
    "full_name": "Mallory",
    "is_active": "on",
    "is_staff": "on",
    "is_superuser": "on",
    "enabled": "on",
    "role": "owner",
    "password1": "a takeover passphrase 42",
    "password2": "a takeover passphrase 42",
    "permissions": "1",
    "_save": "Save",
    "post": "yes",
}


def seed_markers(world: World) -> list[str]:
    """Secrets and media with recognisable values; returns every string that must never show."""
    owner = world.a.memberships["owner"]
    with account_scope(world.a.account.pk):
        camera, _ = camera_create(actor=owner, name="Garden", kind=CameraKind.PULL, source_url=STREAM)
        camera_update(actor=owner, camera=camera, source_url=STREAM + "-updated")
        recording = make_recording(world.a.cameras[0], clip=b"marker-clip-bytes", status=RecordingStatus.PROCESSING)
        files.store(
            account_id=world.a.account.pk,
            recording_id=recording.pk,
            kind=files.THUMBNAIL,
            source=io.BytesIO(b"marker-thumbnail-bytes"),
        )
        camera.refresh_from_db()
        hashes = list(DeviceToken.objects.values_list("secret_hash", flat=True))
    TOTP.activate(world.a.owner, TOTP_SECRET)
    codes = RecoveryCodes.activate(world.a.owner).get_unused_codes()
    stored = [str(value) for a in Authenticator.objects.all() for value in a.data.values()]
    tokens = world.a.tokens + world.b.tokens
    markers = ["marker-user", "marker-pass", "marker-stream", "marker-clip", "marker-thumbnail", TOTP_SECRET]
    markers += [camera.source_url_encrypted, *hashes, *tokens, *(t.rsplit(".", 1)[1] for t in tokens)]
    markers += [*codes, *stored, settings.NVR_MASTER_KEY, settings.SECRET_KEY]
    return [m for m in markers if len(m) >= 8]  # not a counter such as recovery codes' used mask


def rows() -> dict[str, list[dict[str, Any]]]:
    """Every registered model's rows, to compare before and after a form was posted."""
    with unscoped("test: snapshot of every admin model"):
        return {
            model._meta.label: sorted(map(repr, model._default_manager.values()))  # type: ignore[misc]
            for model in admin.site._registry
        }


def first_object(model: type[Model], *, not_of: Any = None) -> Model | None:
    """The model's first row; with ``not_of``, not that person nor theirs (an action on the
    walking staff member would sign them out mid-walk)."""
    with unscoped("test: an object of each admin model"):
        rows = model._default_manager.order_by("pk")
        if not_of is not None:
            if model is User:
                rows = rows.exclude(pk=not_of.pk)
            elif any(f.name == "user" for f in model._meta.get_fields()):
                rows = rows.exclude(user=not_of)
        return rows.first()


def assert_clean(response: Any, markers: list[str], where: str) -> None:
    assert response.status_code < 500, f"{where} answered {response.status_code}"
    body = response.content.decode(errors="replace")
    found = [m for m in markers if m in body]
    assert not found, f"{where} shows {found}"
    location = response.get("Location", "")
    assert not [m for m in markers if m in location], f"{where} redirects with a secret"


def walk(client: Client, markers: list[str], *, actions: bool) -> int:
    checked = 0
    request = _request_of(client)
    for model, model_admin in admin.site._registry.items():
        # Support sees the models of its role only; the others answer 403.
        expected = 200 if model_admin.has_view_permission(request) else 403
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        for query in ("", "?q=marker", "?q=rtsp", "?q=127.0.0.1"):
            response = client.get(changelist + query)
            assert response.status_code == expected, f"{changelist}{query}: {response.status_code}"
            assert_clean(response, markers, changelist + query)
            checked += 1
        obj = first_object(model)
        pages = [reverse("admin:{}_{}_add".format(*info))]
        if obj is not None:
            pages += [
                reverse(f"admin:{info[0]}_{info[1]}_{page}", args=[obj.pk]) for page in ("change", "delete", "history")
            ]
        for page in pages:
            assert_clean(client.get(page), markers, f"GET {page}")
            before = rows()
            response = client.post(page, HARMFUL)
            assert_clean(response, markers, f"POST {page}")
            refused = (302, 403, 404, 405) + ((200,) if page.endswith("/history/") else ())  # history only reads
            assert response.status_code in refused, f"POST {page}: {response.status_code}"
            assert rows() == before, f"POST {page} changed rows"
            checked += 2
        target = first_object(model, not_of=request.user)
        if actions and target is not None:
            for name in model_admin.get_actions(request):
                response = client.post(changelist, {"action": name, "_selected_action": [str(target.pk)]})
                assert_clean(response, markers, f"action {name} on {model._meta.label}")
                assert response.status_code in (200, 302), f"action {name}: {response.status_code}"
                checked += 1
    return checked


def _request_of(client: Client) -> Any:
    """A request carrying the client's user, for asking the ModelAdmin which actions it offers."""
    from django.test import RequestFactory

    request = RequestFactory().get("/support/")
    request.user = User.objects.get(pk=client.session["_auth_user_id"])
    return request


@pytest.mark.parametrize("role", ["support", "superuser"])
def test_the_whole_admin_shows_no_secret_and_changes_nothing(world: World, role: str):
    markers = seed_markers(world)
    client = staff_client(role)
    # The people's sessions exist too: their keys are credentials.
    for person in (world.a.owner, world.b.owner):
        other = Client()
        other.force_login(person)
        other.get(reverse("accounts:home"))
    markers += list(UserSession.objects.values_list("session_key", flat=True))
    assert client.session.session_key
    markers.append(client.session.session_key)
    assert walk(client, markers, actions=False) > 50
    walk(client, markers, actions=True)  # the support actions run; their pages show nothing either


def test_secret_models_are_not_registered():
    labels = {model._meta.label_lower for model in admin.site._registry}
    assert "mfa.authenticator" not in labels
    assert "account.emailconfirmation" not in labels
    assert "auth.group" in labels  # read-only, not gone: operators can see the role


def test_every_registration_is_read_only_and_keeps_only_support_actions(world: World):
    client = staff_client("superuser")
    request = _request_of(client)
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        assert not model_admin.has_add_permission(request), label
        assert not model_admin.has_change_permission(request), label
        assert not model_admin.has_delete_permission(request), label
        assert model_admin.has_view_permission(request), label
        for name, entry in model_admin.get_actions(request).items():
            assert entry is not None
            assert getattr(entry[0], "nvr_support_action", False), f"{label} offers {name}"

"""Managing cameras in the portal and the API; tokens shown once; pull addresses never shown."""

import hashlib

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.crypto import InvalidToken, decrypt_for_account
from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.credentials import authenticate
from devices.models import Camera, DeviceToken
from devices.services import SOURCE_PURPOSE, camera_source_url
from nvr.testing import external_resources

SECRET_URL = "rtsp://admin:hunter2@192.0.2.10:554/stream1"


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def cameras(household) -> dict[str, Camera]:
    with account_scope(household.account.pk):
        return {c.name: c for c in Camera.objects.all()}


def test_the_grid_shows_the_households_cameras(world: World):
    body = client_for(world.a.viewer).get(reverse("devices:grid")).content.decode()
    assert "Atkins family porch" in body
    assert f'data-live-camera="{world.a.cameras[0].pk}"' in body
    assert "Add a camera" not in body  # viewers watch; they do not manage


def test_a_member_adds_a_push_camera_and_sees_its_token_once(world: World):
    response = client_for(world.a.member).post(
        reverse("devices:camera-add"), {"name": "Garden", "kind": "push", "household": str(world.a.account.pk)}
    )
    assert response.status_code == 200
    token = response.context["token"]
    assert token in response.content.decode()
    camera = cameras(world.a)["Garden"]
    with account_scope(world.a.account.pk):
        [row] = DeviceToken.objects.filter(camera=camera)
    assert row.secret_hash == hashlib.sha256(token.rsplit(".", 1)[1].encode()).hexdigest()
    assert token.rsplit(".", 1)[1] not in row.secret_hash
    principal = authenticate(token, address="127.0.0.1")
    assert principal is not None
    assert principal.camera_id == camera.pk
    page = client_for(world.a.member).get(reverse("devices:camera", args=[camera.pk])).content.decode()
    assert token not in page


def test_a_pull_cameras_address_is_encrypted_for_its_household_and_never_shown(world: World, settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = ["192.0.2.0/24"]  # the operator's camera network
    client = client_for(world.a.owner)
    response = client.post(reverse("devices:camera-add"), {"name": "Drive", "kind": "pull", "source_url": SECRET_URL})
    assert response.status_code == 302
    camera = cameras(world.a)["Drive"]
    assert "hunter2" not in camera.source_url_encrypted
    assert camera_source_url(camera) == SECRET_URL
    with pytest.raises(InvalidToken):  # the same ciphertext under another household's key
        decrypt_for_account(world.b.account.pk, SOURCE_PURPOSE, camera.source_url_encrypted)
    for path in (reverse("devices:camera", args=[camera.pk]), reverse("devices:camera-edit", args=[camera.pk])):
        assert "hunter2" not in client.get(path).content.decode()
    body = api(world.a.owner).get(reverse("devices-api:camera-detail", args=[camera.pk])).content.decode()
    assert "hunter2" not in body
    assert '"has_source_url":true' in body


def test_bad_camera_input_gets_readable_errors(world: World):
    client = client_for(world.a.owner)
    pull = client.post(reverse("devices:camera-add"), {"name": "X", "kind": "pull", "source_url": "ftp://x"})
    assert pull.status_code == 400
    assert "Use an rtsp://, rtsps://, http:// or https:// address" in pull.content.decode()
    missing = client.post(reverse("devices:camera-add"), {"name": "X", "kind": "pull"})
    assert "A pull camera needs the address" in missing.content.decode()
    dup = client.post(reverse("devices:camera-add"), {"name": "Atkins family porch", "kind": "push"})
    assert dup.status_code == 400
    assert "already has a camera with that name" in dup.content.decode()
    assert set(cameras(world.a)) == {"Atkins family porch"}


def test_viewers_cannot_manage_cameras(world: World):
    camera = world.a.cameras[0]
    viewer = client_for(world.a.viewer)
    assert viewer.get(reverse("devices:camera-add")).status_code == 403
    assert viewer.post(reverse("devices:camera-delete", args=[camera.pk])).status_code == 403
    assert viewer.post(reverse("devices:camera-token-rotate", args=[camera.pk])).status_code == 403
    assert (
        api(world.a.viewer)
        .patch(reverse("devices-api:camera-detail", args=[camera.pk]), {"name": "x"}, format="json")
        .status_code
        == 403
    )
    assert "Atkins family porch" in cameras(world.a)


def test_rotating_a_token_revokes_the_old_one(world: World):
    old = world.a.tokens[0]
    response = api(world.a.owner).post(reverse("devices-api:camera-token", args=[world.a.cameras[0].pk]))
    assert response.status_code == 201
    new = response.json()["token"]
    assert authenticate(old, address="127.0.0.1") is None
    assert authenticate(new, address="127.0.0.1") is not None
    assert (
        api(world.a.owner).delete(reverse("devices-api:camera-token", args=[world.a.cameras[0].pk])).status_code == 204
    )
    assert authenticate(new, address="127.0.0.1") is None


def test_a_disabled_cameras_token_is_refused(world: World):
    camera = world.a.cameras[0]
    client_for(world.a.owner).post(reverse("devices:camera-edit", args=[camera.pk]), {"name": camera.name})
    assert authenticate(world.a.tokens[0], address="127.0.0.1") is None


def test_the_api_creates_lists_and_deletes_cameras(world: World):
    client = api(world.a.member)
    created = client.post(reverse("devices-api:camera-list"), {"name": "Shed", "kind": "push"}, format="json")
    assert created.status_code == 201
    assert created.json()["token"].startswith("nvr1.")
    listed = client.get(reverse("devices-api:camera-list")).json()
    assert [c["name"] for c in listed] == ["Atkins family porch", "Shed"]
    assert client.delete(reverse("devices-api:camera-detail", args=[created.json()["id"]])).status_code == 204
    bad = client.post(reverse("devices-api:camera-list"), {"name": "", "kind": "drone"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"name", "kind"}


def test_the_heartbeat_takes_the_camera_from_the_token_only(world: World):
    body = {"camera": str(world.b.cameras[0].pk), "account": str(world.b.account.pk)}
    response = APIClient().post(
        reverse("devices-api:device-heartbeat"), body, format="json", HTTP_AUTHORIZATION=f"Bearer {world.a.tokens[0]}"
    )
    assert response.status_code == 200
    assert response.json()["camera"]["id"] == str(world.a.cameras[0].pk)
    assert cameras(world.a)["Atkins family porch"].status == "online"
    assert cameras(world.b)["Brown family porch"].status == "offline"
    wrong = APIClient().post(reverse("devices-api:device-heartbeat"), HTTP_AUTHORIZATION="Bearer nvr1.x.y.z")
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")


def test_the_status_endpoint_reports_watchers(world: World):
    from devices.models import LiveSession

    camera = world.a.cameras[0]
    with account_scope(world.a.account.pk):
        LiveSession.objects.create(account_id=world.a.account.pk, camera=camera, user=world.a.viewer)
    data = client_for(world.a.owner).get(reverse("devices:camera-status", args=[camera.pk])).json()
    assert data["watchers"] == ["Vera"]
    assert data["status"] == "offline"


def test_the_api_schema_and_docs_are_served_from_the_site(world: World):
    # Signed out: the docs page sends to the sign-in page, the schema is refused.
    anonymous = Client()
    docs = anonymous.get(reverse("api-docs"))
    assert docs.status_code == 302
    assert docs["Location"].startswith(reverse("account_login"))
    assert anonymous.get(reverse("api-schema")).status_code in (401, 403)
    assert b"/api/v1/cameras/" not in anonymous.get(reverse("api-schema")).content
    # Signed in, any role: both.
    assert client_for(world.a.viewer).get(reverse("api-schema")).status_code == 200
    client = client_for(world.a.owner)
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200
    assert b"/api/v1/cameras/" in schema.content
    assert "swagger-ui" in client.get(reverse("api-docs")).content.decode()
    # Scripts, stylesheets, images and CSS url()s: all from this site.
    assert external_resources(client, reverse("api-docs")) == []

"""The support admin: staff only, metadata only, and it sees every household on purpose."""

from django.contrib import admin
from django.db import models
from django.urls import reverse

from conftest import client_for, staff_client


def support_client(db):
    """A support-group member whose session used the second factor."""
    return staff_client("support")


def test_staff_see_every_households_metadata(world):
    client = support_client(world)
    body = client.get(reverse("admin:accounts_account_changelist")).content.decode()
    assert "Atkins family" in body
    assert "Brown family" in body
    change = client.get(reverse("admin:accounts_account_change", args=[world.b.account.pk]))
    assert change.status_code == 200
    assert "Charlie" in change.content.decode()  # its members, through the inline


def test_access_events_are_read_only_for_support(world):
    client = support_client(world)
    event = world.a.events[0]
    assert client.get(reverse("admin:accounts_accessevent_changelist")).status_code == 200
    assert (
        client.post(reverse("admin:accounts_accessevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )


def test_non_staff_are_sent_to_the_support_login(alice, world):
    response = alice.get(reverse("admin:accounts_account_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_no_admin_exposes_file_fields():
    """Support never gets video, thumbnails or any stored file through the admin:
    a registered model with a file field must exclude it."""
    for model, model_admin in admin.site._registry.items():
        files = {f.name for f in model._meta.get_fields() if isinstance(f, models.FileField)}
        hidden = set(model_admin.exclude or ())
        assert files <= hidden, f"{model._meta.label} admin exposes file fields {sorted(files - hidden)}"


def test_no_admin_exposes_secrets_or_stream_addresses():
    """Stream addresses (with their passwords) and token hashes stay out of support's view."""
    secret_fields = {"source_url_encrypted", "secret_hash", "password"}
    for model, model_admin in admin.site._registry.items():
        names = {f.name for f in model._meta.get_fields()}
        exposed = (names & secret_fields) - set(model_admin.exclude or ()) - {"password"}
        assert not exposed, f"{model._meta.label} admin exposes {sorted(exposed)}"


def test_staff_see_cameras_metadata_across_households(world):
    client = support_client(world)
    body = client.get(reverse("admin:devices_camera_changelist")).content.decode()
    assert "Atkins family porch" in body
    assert "Brown family porch" in body
    change = client.get(reverse("admin:devices_camera_change", args=[world.b.cameras[0].pk])).content.decode()
    assert "source_url" not in change


def test_support_cannot_change_a_persons_email_or_password(world):
    """Those change only through the person's own pages, which confirm and announce them."""
    client = support_client(world)
    owner = world.a.owner
    page = client.get(reverse("admin:accounts_user_change", args=[owner.pk])).content.decode()
    assert 'name="email"' not in page
    assert "/password/" not in page
    assert client.get(f"/support/accounts/user/{owner.pk}/password/").status_code in (302, 404)
    client.post(
        reverse("admin:accounts_user_change", args=[owner.pk]),
        {"email": "mallory@x.test", "full_name": "Alice", "is_active": "on"},
    )
    owner.refresh_from_db()
    assert owner.email == "alice@a.test"


def test_the_support_login_is_the_sites_own_sign_in(world, client):
    """No password-only form: staff sign in where the second factor and the limits apply."""
    response = client.get("/support/login/?next=/support/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    posted = client.post("/support/login/", {"username": "alice@a.test", "password": "anything at all"})
    assert posted.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client_for(world.a.owner).get("/support/login/").status_code == 403  # signed in, not staff

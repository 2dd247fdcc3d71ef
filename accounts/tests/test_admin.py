"""The support admin: staff only, metadata only, and it sees every household on purpose."""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role, SupportAuditEntry
from accounts.services import OPERATOR, member_add
from accounts.tenancy import account_scope
from conftest import client_for, signed_in_with_password, staff_client
from devices.models import DeviceToken


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


# --- The household's audit of support reads ------------------------------------------------


def audit(world, household):
    with account_scope(household.account.pk):
        return list(SupportAuditEntry.objects.values_list("summary", "is_action"))


def test_a_list_page_writes_one_read_per_household_shown_once_per_window(world, django_capture_on_commit_callbacks):
    client = support_client(world)
    with django_capture_on_commit_callbacks(execute=True):  # the window starts once the entry commits
        assert client.get(reverse("admin:devices_camera_changelist")).status_code == 200
    assert audit(world, world.a) == [("looked at the list of cameras", False)]
    assert audit(world, world.b) == [("looked at the list of cameras", False)]
    client.get(reverse("admin:devices_camera_changelist"))  # reloaded within the window
    assert len(audit(world, world.a)) == 1
    assert len(audit(world, world.b)) == 1


def test_a_change_page_writes_a_read_for_its_household_only(world):
    client = support_client(world)
    camera = world.a.cameras[0]
    assert client.get(reverse("admin:devices_camera_change", args=[camera.pk])).status_code == 200
    assert audit(world, world.a) == [(f"looked at camera “{camera.name}”", False)]
    assert audit(world, world.b) == []


def test_a_persons_page_writes_a_read_for_each_of_their_households(world):
    with account_scope(world.b.account.pk):
        member_add(actor=OPERATOR, email=world.a.viewer.email, role=Role.VIEWER)
    client = support_client(world)
    client.get(reverse("admin:accounts_user_change", args=[world.a.viewer.pk]))
    assert len(audit(world, world.a)) == 1
    assert len(audit(world, world.b)) == 1
    client.get(reverse("admin:accounts_user_change", args=[world.a.owner.pk]))
    assert len(audit(world, world.b)) == 1


# --- Support actions ------------------------------------------------------------------------


def act(client, model, name, *objects):
    changelist = reverse(f"admin:{model}_changelist")
    selected = [str(obj.pk) for obj in objects]
    response = client.post(changelist, {"action": name, "_selected_action": selected})
    assert response.status_code == 302, response.content.decode()[:400]


def actions_of(world, household):
    return [summary for summary, is_action in audit(world, household) if is_action]


def recipients(mailoutbox):
    return {address for message in mailoutbox for address in message.to}


def test_support_disables_a_camera_and_the_owners_are_told(world, mailoutbox, django_capture_on_commit_callbacks):
    client = support_client(world)
    camera = world.a.cameras[0]
    with django_capture_on_commit_callbacks(execute=True):
        act(client, "devices_camera", "disable", camera)
    with account_scope(world.a.account.pk):
        camera.refresh_from_db()
    assert not camera.enabled
    assert actions_of(world, world.a) == [f"disabled camera “{camera.name}”"]
    assert actions_of(world, world.b) == []
    assert recipients(mailoutbox) == {"alice@a.test"}
    assert "disabled camera" in mailoutbox[0].body


def test_support_revokes_a_cameras_token(world, mailoutbox, django_capture_on_commit_callbacks):
    client = support_client(world)
    camera = world.b.cameras[0]
    with django_capture_on_commit_callbacks(execute=True):
        act(client, "devices_camera", "revoke_token", camera)
    with account_scope(world.b.account.pk):
        assert not DeviceToken.objects.filter(camera=camera, revoked_at__isnull=True).exists()
    assert actions_of(world, world.b) == [f"revoked the device token of camera “{camera.name}”"]
    assert actions_of(world, world.a) == []
    assert recipients(mailoutbox) == {"charlie@b.test"}


def test_support_ends_a_persons_sessions(world, mailoutbox, django_capture_on_commit_callbacks):
    bob = signed_in_with_password(world.a.member, reauthenticated=False)
    assert bob.get(reverse("accounts:home")).status_code == 200
    assert UserSession.objects.filter(user=world.a.member).exists()
    client = support_client(world)
    with django_capture_on_commit_callbacks(execute=True):
        act(client, "accounts_user", "end_sessions", world.a.member)
    assert not UserSession.objects.filter(user=world.a.member).exists()
    assert bob.get(reverse("accounts:home")).status_code == 302  # signed out
    assert actions_of(world, world.a) == ["signed Bob out of every session"]
    assert actions_of(world, world.b) == []
    assert recipients(mailoutbox) == {"alice@a.test", "bob@a.test"}


def test_support_resets_a_persons_second_factor(world, mailoutbox, django_capture_on_commit_callbacks):
    TOTP.activate(world.b.member, "JBSWY3DPEHPK3PXP")
    client = support_client(world)
    with django_capture_on_commit_callbacks(execute=True):
        act(client, "accounts_user", "reset_second_factor", world.b.member)
    assert not Authenticator.objects.filter(user=world.b.member).exists()
    assert actions_of(world, world.b) == ["reset the second factor of Dave"]
    assert actions_of(world, world.a) == []
    assert recipients(mailoutbox) == {"charlie@b.test", "dave@b.test"}


def test_support_sends_a_password_reset_without_seeing_the_link(world, mailoutbox, django_capture_on_commit_callbacks):
    client = support_client(world)
    changelist = reverse("admin:accounts_user_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "send_password_reset", "_selected_action": [str(world.a.viewer.pk)]}, follow=True
        )
    reset = [m for m in mailoutbox if m.to == ["vera@a.test"] and "/password/reset/key/" in m.body]
    assert len(reset) == 1
    link = next(word for word in reset[0].body.split() if "/password/reset/key/" in word)
    assert link not in response.content.decode()
    assert actions_of(world, world.a) == ["sent Vera a password-reset email"]
    assert actions_of(world, world.b) == []
    assert "alice@a.test" in recipients(mailoutbox)


def test_a_support_page_asks_for_the_staff_members_group_once(world):
    """has_permission is asked by our wrapper, Django's and the page's context: one query
    (four before; the permissions Django reads through the groups are another, cached)."""
    client = support_client(world)
    with CaptureQueriesContext(connection) as context:
        assert client.get(reverse("admin:accounts_account_changelist")).status_code == 200
    group_queries = [q["sql"] for q in context.captured_queries if 'SELECT 1 AS "a" FROM "auth_group"' in q["sql"]]
    assert len(group_queries) == 1, group_queries

"""Second factor: an authenticator app (TOTP) with recovery codes, asked for at sign-in,
throttled, and required of a whole household by its owner."""

import base64
import hashlib
import hmac
import struct
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.services import OPERATOR, member_add
from accounts.tenancy import account_scope
from conftest import PASSWORD, World, client_for, signed_in_with_password
from devices.live import start_live_view


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238, written here so the test does not trust the code it checks."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def enrol_totp(client: Client) -> str:
    """Through the pages, as a person would: returns the secret their app holds."""
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})
    assert response.status_code == 302, response.content.decode()[:800]
    return secret


def password_step(email: str) -> Client:
    client = Client()
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # the password alone does not sign in
    return client


def test_enrolling_an_app_stores_its_key_encrypted_and_makes_recovery_codes(world: World):
    secret = enrol_totp(signed_in_with_password(world.a.owner))
    app = Authenticator.objects.get(user=world.a.owner, type=Authenticator.Type.TOTP)
    assert secret not in str(app.data)
    codes = Authenticator.objects.get(user=world.a.owner, type=Authenticator.Type.RECOVERY_CODES)
    assert len(RecoveryCodes(codes).get_unused_codes()) == 10


def test_sign_in_then_asks_for_a_code(world: World):
    secret = enrol_totp(signed_in_with_password(world.a.owner))
    client = password_step("alice@a.test")
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    right = client.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert right.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 200


def test_a_recovery_code_signs_in_once(world: World):
    enrol_totp(signed_in_with_password(world.a.owner))
    code = RecoveryCodes(
        Authenticator.objects.get(user=world.a.owner, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()[0]
    first = password_step("alice@a.test")
    first.post(reverse("mfa_authenticate"), {"code": code})
    assert "_auth_user_id" in first.session
    again = password_step("alice@a.test")
    again.post(reverse("mfa_authenticate"), {"code": code})
    assert "_auth_user_id" not in again.session


def test_wrong_codes_are_throttled(world: World, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/10m/key"}
    secret = enrol_totp(signed_in_with_password(world.a.owner))
    client = password_step("alice@a.test")
    wrong = "000000" if totp(secret) != "000000" else "111111"
    for _ in range(3):
        client.post(reverse("mfa_authenticate"), {"code": wrong})
    refused = client.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in refused.content.decode()


def require(owner: Client, world: World, on: bool = True) -> None:
    response = owner.post(
        reverse("accounts:household-settings"),
        {"name": world.a.account.name, "require_second_factor": "on" if on else "", "household": world.a.account.pk},
    )
    assert response.status_code == 302, response.content.decode()[:800]


def test_an_owner_must_have_a_second_factor_before_requiring_one(world: World):
    response = client_for(world.a.owner).post(
        reverse("accounts:household-settings"),
        {"name": world.a.account.name, "require_second_factor": "on", "household": world.a.account.pk},
    )
    assert response.status_code == 400
    assert "Set up your own second factor first" in response.content.decode()


def test_a_required_second_factor_hides_the_household_until_enrolled(world: World):
    owner = signed_in_with_password(world.a.owner)
    enrol_totp(owner)
    require(owner, world)
    bob = signed_in_with_password(world.a.member)
    for name in ("accounts:home", "devices:grid", "recordings:timeline", "accounts:members"):
        response = bob.get(reverse(name))
        assert response["Location"] == reverse("mfa_index"), name
    camera = world.a.cameras[0]
    assert bob.get(reverse("devices:camera", args=[camera.pk]))["Location"] == reverse("mfa_index")
    api = bob.get(reverse("devices-api:camera-list"))
    assert api.status_code == 403
    assert "second factor" in api.json()["detail"]
    view = start_live_view(
        user=world.a.member, session_key="k", active_account=None, camera_id=camera.pk, ip=None, user_agent=""
    )
    assert view is None
    # What he needs to enrol stays open. Once he has an app, this session (signed in with the
    # password alone) still has to use it once; then the household is his again.
    assert bob.get(reverse("mfa_index")).status_code == 200
    secret = enrol_totp(bob)
    asked = bob.get(reverse("devices:grid"))
    assert asked["Location"] == f"{reverse('mfa_reauthenticate')}?next=%2Fcameras%2F"
    assert bob.post(asked["Location"], {"code": totp(secret)}).status_code == 302
    assert bob.get(reverse("devices:grid")).status_code == 200


def test_a_session_that_signed_in_with_the_password_alone_is_not_trusted(world: World):
    """Someone holding bob's password and an old session gains nothing when bob enrols later:
    the rule is about how each session signed in, not about what the person owns."""
    owner = signed_in_with_password(world.a.owner)
    enrol_totp(owner)
    require(owner, world)
    thief = signed_in_with_password(world.a.member, reauthenticated=False)  # before bob enrols
    secret = enrol_totp(signed_in_with_password(world.a.member))
    assert thief.get(reverse("devices:grid"))["Location"].startswith(reverse("mfa_reauthenticate"))
    assert thief.get(reverse("devices-api:camera-list")).status_code == 403
    bob = password_step(world.a.member.email)  # a full sign-in: password, then the code
    bob.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert bob.get(reverse("devices:grid")).status_code == 200


def test_other_households_of_the_same_person_are_unaffected(world: World):
    owner = signed_in_with_password(world.a.owner)
    enrol_totp(owner)
    require(owner, world)
    with account_scope(world.b.account.pk):
        member_add(actor=OPERATOR, email=world.a.member.email, role=Role.VIEWER)
    bob = signed_in_with_password(world.a.member)
    bob.post(reverse("accounts:household-switch", args=[world.b.account.pk]))
    assert bob.get(reverse("devices:grid")).status_code == 200


def test_requiring_a_second_factor_closes_the_live_views_of_those_without_one(world: World, monkeypatch):
    closed: list[tuple[str, ...]] = []
    monkeypatch.setattr("accounts.services.close_sockets_on_commit", lambda *groups, reason: closed.append(groups))
    owner = signed_in_with_password(world.a.owner)
    enrol_totp(owner)
    require(owner, world)
    from accounts.realtime import member_group

    without = {member_group(world.a.account.pk, person.pk) for person in (world.a.member, world.a.viewer)}
    assert set(closed[-1]) == without  # not the owner, who has an app


def test_an_open_live_view_fails_its_recheck_once_a_second_factor_is_required(world: World):
    from devices.live import still_allowed

    bob = signed_in_with_password(world.a.member)
    view = start_live_view(
        user=world.a.member,
        session_key=bob.session.session_key or "",
        active_account=None,
        camera_id=world.a.cameras[0].pk,
        ip=None,
        user_agent="",
    )
    assert view is not None
    assert still_allowed(view)
    owner = signed_in_with_password(world.a.owner)
    enrol_totp(owner)
    require(owner, world)
    assert not still_allowed(view)

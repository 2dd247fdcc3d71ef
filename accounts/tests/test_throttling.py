"""Throttling: a lock per (email, client address), a limit on failed attempts per address,
and the client's address taken only from what our own proxies wrote."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.auth.client import address_of, throttle_key
from conftest import PASSWORD, World

LOCKED = "Too many failed sign-ins"
WRONG = "The email address and/or password you specified are not correct."


@pytest.fixture(autouse=True)
def _five_failures(settings):
    settings.AXES_FAILURE_LIMIT = 5  # what these tests count to, whatever the environment says


def attempt(email: str, password: str, address: str = "127.0.0.1", **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(reverse("account_login"), {"login": email, "password": password})
    return client, response


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_that_email_from_that_address(world: World):
    answers = [attempt("alice@a.test", "wrong")[1] for _ in range(5)]
    assert all(WRONG in answer.content.decode() for answer in answers[:4])
    assert answers[4].status_code == 429  # the fifth failure locks, and says so
    client, response = attempt("alice@a.test", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not signed_in(client)


def test_the_owner_still_signs_in_from_another_address(world: World):
    for _ in range(6):
        attempt("alice@a.test", "wrong", address="127.0.0.66")
    client, response = attempt("alice@a.test", PASSWORD, address="127.0.0.1")
    assert response.status_code == 302
    assert signed_in(client)


def test_other_people_at_the_locked_address_are_not_locked(world: World):
    for _ in range(6):
        attempt("alice@a.test", "wrong")
    client, _response = attempt("bob@a.test", PASSWORD)
    assert signed_in(client)


def test_an_unknown_email_locks_the_same_way(world: World):
    answers = [attempt("nobody@a.test", "wrong")[1] for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 4 + [429, 429]
    assert LOCKED in answers[-1].content.decode()


def test_a_client_chosen_forwarded_for_header_changes_nothing(world: World):
    for n in range(5):
        attempt("alice@a.test", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    client, response = attempt("alice@a.test", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429
    assert not signed_in(client)


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_saw(world: World, settings):
    settings.NVR_TRUSTED_PROXY_COUNT = 1
    proxy = "127.0.0.5"
    for n in range(5):  # the client prepends a new fake address each time; our proxy appends the real one
        attempt("alice@a.test", "wrong", address=proxy, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 127.0.0.21")
    _client, locked = attempt("alice@a.test", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="10.1.1.1, 127.0.0.21")
    assert locked.status_code == 429
    client, _other = attempt("alice@a.test", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="127.0.0.22")
    assert signed_in(client), "another client behind the same proxy is not locked"


def test_address_of():
    assert address_of("127.0.0.1", "203.0.113.9") == "127.0.0.1"  # no trusted proxy: the header is ignored


def test_address_of_with_two_proxies(settings):
    settings.NVR_TRUSTED_PROXY_COUNT = 2
    # client-written, then what our outer proxy saw (the client), then what our inner proxy saw (the outer one)
    assert address_of("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.1") == "198.51.100.7"
    assert address_of("10.0.0.2", "198.51.100.7") == "10.0.0.2"  # fewer hops than proxies: the connection's
    assert address_of("10.0.0.2", "junk, also-junk") == "10.0.0.2"


def test_failed_attempts_per_address_are_limited_whatever_the_account(world: World, settings):
    settings.NVR_SIGN_IN_FAILURES_PER_ADDRESS = 6
    for n in range(6):  # one wrong password each for six addresses: no (email, address) lock is near
        attempt(f"person{n}@a.test", "wrong")
    client, response = attempt("alice@a.test", PASSWORD)
    assert not signed_in(client)
    assert "Too many failed login attempts" in response.content.decode()
    other, _ = attempt("alice@a.test", PASSWORD, address="127.0.0.2")
    assert signed_in(other)


def test_successful_sign_ins_never_trip_the_address_limit(world: World, settings):
    settings.NVR_SIGN_IN_FAILURES_PER_ADDRESS = 6
    for _ in range(20):
        client, _response = attempt("alice@a.test", PASSWORD)
        assert signed_in(client)


def test_sign_up_is_limited_per_address(db, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/10m/ip"}
    answers = [
        Client()
        .post(
            reverse("account_signup"),
            {
                "full_name": "N",
                "household_name": "H",
                "email": f"n{n}@example.test",
                "password1": "a sturdy passphrase 42",
                "password2": "a sturdy passphrase 42",
            },
        )
        .status_code
        for n in range(3)
    ]
    assert answers == [302, 302, 429]


def test_device_token_failures_are_limited_per_address(world: World, settings):
    settings.NVR_FAILED_ATTEMPTS_PER_ADDRESS = 3
    url = reverse("devices-api:device-heartbeat")
    bad = APIClient(REMOTE_ADDR="127.0.0.9")
    answers = [bad.post(url, {}, format="json", HTTP_AUTHORIZATION="Bearer nvr1.x.y.z").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    # Even the right token is refused from that address for now; elsewhere it works.
    right = f"Bearer {world.a.tokens[0]}"
    assert bad.post(url, {}, format="json", HTTP_AUTHORIZATION=right).status_code == 429
    assert APIClient().post(url, {}, format="json", HTTP_AUTHORIZATION=right).status_code == 200


def test_guessing_invitation_links_is_limited_per_address(world: World, settings, alice):
    settings.NVR_FAILED_ATTEMPTS_PER_ADDRESS = 3
    answers = [alice.post(reverse("accounts:invitation-accept", args=[uuid.uuid4()])).status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]


def test_signing_in_to_an_account_of_ones_own_does_not_reset_the_address_limit(world: World, settings):
    """A sprayer who owns an account with a second factor: allauth empties its rate buckets
    after a good code, so the per-address count lives outside them."""
    from accounts.tests.test_second_factor import enrol_totp, password_step, totp
    from conftest import signed_in_with_password

    settings.NVR_SIGN_IN_FAILURES_PER_ADDRESS = 6
    secret = enrol_totp(signed_in_with_password(world.b.owner))
    for n in range(5):
        attempt(f"person{n}@a.test", "wrong")
    own = password_step("charlie@b.test")
    own.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert "_auth_user_id" in own.session  # their own account: signed in with password and code
    attempt("person9@a.test", "wrong")  # the sixth failure from this address
    client, response = attempt("alice@a.test", PASSWORD)
    assert not signed_in(client)
    assert "Too many failed login attempts" in response.content.decode()


def test_an_ipv6_client_counts_as_its_whole_64():
    assert throttle_key("2001:db8:1:2:aaaa::1") == throttle_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::"
    assert throttle_key("2001:db8:1:3::1") != throttle_key("2001:db8:1:2::1")
    assert throttle_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert throttle_key("192.0.2.7") == "192.0.2.7"


def test_five_failures_from_one_ipv6_64_lock_that_email_there(world: World):
    for n in range(5):
        attempt("alice@a.test", "wrong", address=f"2001:db8:1:2::{n + 1}")
    client, response = attempt("alice@a.test", PASSWORD, address="2001:db8:1:2::99")
    assert response.status_code == 429
    assert not signed_in(client)
    elsewhere, _ = attempt("alice@a.test", PASSWORD, address="2001:db8:1:3::1")
    assert signed_in(elsewhere)

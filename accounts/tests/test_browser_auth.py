"""Signing in as a person does, in Debian's Chromium: sign-up, an authenticator app and
recovery codes, a passkey (Chromium's virtual authenticator) and the lockout.

Pages are opened at http://localhost:PORT: WebAuthn refuses IP-address origins.
"""

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from accounts.tests.test_second_factor import totp
from conftest import PASSWORD, World
from devices.tests.test_browser import CSP_EVENTS
from nvr.testing import LiveServer, chromium, daphne_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "a sturdy passphrase 42"


@pytest.fixture
def mailbox(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def server(django_db_setup: None, django_db_blocker: Any, mailbox: Path) -> Iterator[LiveServer]:
    """daphne writing its mail to files, and listening on [::1] too (a second client address)."""
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mailbox),
        "ALLOWED_HOSTS": "127.0.0.1,[::1],localhost",
    }
    with django_db_blocker.unblock(), daphne_server(env, second_address=True) as live:
        yield live


@pytest.fixture
def people(world: World) -> World:
    """The households, with A's owner's password hashed as daphne checks it (the tests'
    own fast hasher is not among the production hashers the server runs with)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        world.a.owner.set_password(PASSWORD)
        world.a.owner.save()
    return world


@pytest.fixture
def browser() -> Iterator[Any]:
    """Requested after ``world``: no ORM once Playwright runs (its greenlet's own database
    connection would never be closed)."""
    with chromium() as launched:
        yield launched


def at_localhost(server: LiveServer) -> str:
    return server.http.replace("127.0.0.1", "localhost")


def newest_link(mailbox: Path, path: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mail = "".join(f.read_text() for f in sorted(mailbox.glob("*"), key=lambda f: f.stat().st_mtime))
        links = re.findall(rf"https?://[^/\s]+({re.escape(path)}[^\s]+)", mail)
        if links:
            return str(links[-1])
        time.sleep(0.1)
    raise AssertionError(f"no mail with a {path} link")


def next_code(secret: str, *, used_at: float) -> str:
    """A code from the next 30 s step: a code is accepted once, so enrolling spent the current one."""
    while int(time.time() // 30) == int(used_at // 30):
        time.sleep(0.2)
    return totp(secret)


def sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/account/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():  # the click's navigation, not the page already loaded
        page.click("form[action='/account/login/'] button[type=submit]")


def sign_out(page: Any, base: str) -> None:
    page.goto(f"{base}/account/security/")
    page.click("header form[action='/account/logout/'] button")
    page.wait_for_url(re.compile(r".*/account/login/.*|.*/$"))


def confirm_password_if_asked(page: Any, password: str) -> None:
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", password)
        with page.expect_navigation():  # the click's navigation, not the page already loaded
            page.click("main button[type=submit]")


def test_sign_up_enrol_an_app_and_sign_in_with_it_and_with_a_recovery_code(
    server: LiveServer, mailbox: Path, browser: Any
):
    base = at_localhost(server)
    page = browser.new_page()
    page.add_init_script(CSP_EVENTS)  # allauth's pages run under the site's policy too
    violations: list[str] = []
    page.on("load", lambda loaded: violations.extend(loaded.evaluate("window.__cspViolations || []")))
    page.goto(f"{base}/account/signup/")
    page.fill("input[name=full_name]", "Nora New")
    page.fill("input[name=email]", "nora@example.test")
    page.fill("input[name=household_name]", "The News")
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/account/confirm-email/$"))
    page.goto(base + newest_link(mailbox, "/account/confirm-email/"))
    with page.expect_navigation():  # the click's navigation, not the page already loaded
        page.click("main form button[type=submit]")
    assert "The News" in page.inner_text("header")

    page.goto(f"{base}/account/2fa/totp/activate/")
    confirm_password_if_asked(page, NEW_PASSWORD)
    secret = page.input_value("#authenticator_secret")
    enrolled_at = time.time()
    page.fill("input[name=code]", totp(secret, at=enrolled_at))
    with page.expect_navigation():  # the click's navigation, not the page already loaded
        page.click("main form button[type=submit]")
    page.goto(f"{base}/account/2fa/recovery-codes/")
    confirm_password_if_asked(page, NEW_PASSWORD)
    codes = page.input_value("#recovery_codes").split()
    assert len(codes) == 10
    sign_out(page, base)

    sign_in(page, base, "nora@example.test", NEW_PASSWORD)
    assert "/account/2fa/authenticate/" in page.url  # the password alone is not enough
    assert "The News" not in page.inner_text("header")
    page.fill("input[name=code]", next_code(secret, used_at=enrolled_at))
    with page.expect_navigation():  # the click's navigation, not the page already loaded
        page.click("main form button[type=submit]")
    assert "The News" in page.inner_text("header")
    sign_out(page, base)

    sign_in(page, base, "nora@example.test", NEW_PASSWORD)
    page.fill("input[name=code]", codes[0])
    with page.expect_navigation():  # the click's navigation, not the page already loaded
        page.click("main form button[type=submit]")
    assert "The News" in page.inner_text("header")
    assert violations == []


def test_register_and_sign_in_with_a_passkey(server: LiveServer, people: World, browser: Any):
    base = at_localhost(server)
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(CSP_EVENTS)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    sign_in(page, base, "alice@a.test", PASSWORD)
    page.goto(f"{base}/account/2fa/webauthn/add/?passwordless")
    confirm_password_if_asked(page, PASSWORD)
    page.fill("input[name=name]", "Alice's phone")
    passwordless = page.locator("input[name=passwordless]")
    if passwordless.count():
        passwordless.check()
    page.click("#mfa_webauthn_add")
    # The page posts the new credential by script, then moves on: wait for it to leave "add".
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    page.goto(f"{base}/account/2fa/webauthn/")
    assert "Alice's phone" in page.inner_text("main")
    sign_out(page, base)

    page.goto(f"{base}/account/login/")
    page.click("#passkey_login")
    page.wait_for_url(f"{base}/")
    assert "Atkins family" in page.inner_text("header")
    assert page.evaluate("window.__cspViolations") == []


def test_the_lockout_and_the_right_password_from_another_address(server: LiveServer, people: World, browser: Any):
    locked = browser.new_page()
    for _ in range(5):
        sign_in(locked, server.http, "alice@a.test", "not the password")
    assert "Too many failed sign-ins" in locked.inner_text("main")
    sign_in(locked, server.http, "alice@a.test", PASSWORD)
    assert "Too many failed sign-ins" in locked.inner_text("main")  # even the right password, from there

    elsewhere = browser.new_context().new_page()  # the same person at another address: ::1
    sign_in(elsewhere, server.http_other, "alice@a.test", PASSWORD)
    assert "Atkins family" in elsewhere.inner_text("header")

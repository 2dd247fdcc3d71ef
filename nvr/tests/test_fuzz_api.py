"""The REST API fuzzed from its own OpenAPI schema (schemathesis), as the three identities
that use it: a household's owner, its viewer (both by session cookie) and a camera (device
token). Every generated request must get no server error and a response the schema
describes. In-process, on Django's WSGI handler, inside the test's transaction.

Bounded and reproducible: ``FUZZ_EXAMPLES`` cases per operation, derandomized. Marked
``fuzz``: it runs once in CI, in the services pass (``.ci/run``).
"""

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from conftest import World

pytestmark = pytest.mark.fuzz

# Examples per operation and identity: 29 operations x 3 identities, about 30 s of CPU
# (kept small: CI's whole run has 20 minutes; raise it for a deeper run by hand).
FUZZ_EXAMPLES = 8
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# A fixed CSRF secret: DRF's session authentication checks it on writes, as a browser sends it.
CSRF_SECRET = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"

# Generated cases only, bounded (the coverage phase's boundary cases are not, and took minutes).
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}}, "generation": {"max-examples": FUZZ_EXAMPLES, "deterministic": True}}
)
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True), config=CONFIG)
schema.app = get_wsgi_application()

bounded = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def numeric_only(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    """``getaddrinfo`` for IP literals only: fuzzed camera host names never reach a DNS server."""
    kwargs["flags"] = kwargs.get("flags", 0) | socket.AI_NUMERICHOST
    return REAL_GETADDRINFO(host, port, *args, **kwargs)


REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def in_process(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Requests run in the test's transaction: the handler must not close the connection
    around each one (Django's test client disconnects the same signals)."""
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield world
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@dataclass(frozen=True)
class Identity:
    cookies: dict[str, str]
    headers: dict[str, str]


def session_of(user: Any) -> Identity:
    """A browser's session cookie and CSRF token for ``user``, signed in once per test."""
    client = Client()
    client.force_login(user)
    return Identity(
        cookies={"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_SECRET},
        headers={"X-CSRFToken": CSRF_SECRET},
    )


@pytest.fixture
def identities(in_process: World) -> dict[str, Identity]:
    return {
        "owner": session_of(in_process.a.owner),
        "viewer": session_of(in_process.a.viewer),
        "device": Identity(cookies={}, headers={"Authorization": f"Bearer {in_process.a.tokens[0]}"}),
    }


def test_the_identities_reach_past_authentication(identities: dict[str, Identity]):
    """Else the fuzz would only ever meet 401/403: each identity reads and writes as itself."""

    def send(path: str, method: str, who: str, **kwargs: Any) -> int:
        case = schema[path][method].Case(**kwargs)
        return int(case.call(cookies=identities[who].cookies, headers=identities[who].headers).status_code)

    invite = {"email": "nina@n.test", "role": "viewer"}
    assert send("/api/v1/household/", "GET", "owner") == 200
    assert send("/api/v1/invitations/", "POST", "owner", body=invite, media_type="application/json") == 201
    assert send("/api/v1/household/", "GET", "viewer") == 200
    assert send("/api/v1/invitations/", "POST", "viewer", body=invite, media_type="application/json") == 403
    assert send("/api/v1/device/heartbeat/", "POST", "device", body={}, media_type="application/json") == 200


def fuzz(case: Any, identity: Identity) -> None:
    case.call_and_validate(checks=CHECKS, cookies=identity.cookies, headers=identity.headers)


@schema.parametrize()
@bounded
def test_fuzz_as_owner(case: Any, identities: dict[str, Identity]) -> None:
    fuzz(case, identities["owner"])


@schema.parametrize()
@bounded
def test_fuzz_as_viewer(case: Any, identities: dict[str, Identity]) -> None:
    fuzz(case, identities["viewer"])


@schema.parametrize()
@bounded
def test_fuzz_as_device(case: Any, identities: dict[str, Identity]) -> None:
    fuzz(case, identities["device"])

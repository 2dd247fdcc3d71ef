"""Bodies larger than the site accepts: 413 with a readable message, nothing written
(nvr/limits.py). The limit is Django's DATA_UPLOAD_MAX_MEMORY_SIZE, made small here."""

import json

import pytest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import Invitation
from accounts.tenancy import account_scope
from conftest import World, client_for
from nvr.limits import bad_request

LIMIT = 10_000


@pytest.fixture(autouse=True)
def _small_limit(settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


def invitations_of(world: World) -> set[str]:
    with account_scope(world.a.account.pk):
        return set(Invitation.objects.values_list("email", flat=True))


def test_an_oversized_api_json_body_is_a_413_with_a_message(world: World):
    before = invitations_of(world)
    body = json.dumps({"email": "nina@n.test", "role": "viewer", "padding": "x" * LIMIT})
    response = client_for(world.a.owner).post(reverse("api:invitation-list"), body, content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert "9 kB" in response.json()["detail"]
    assert invitations_of(world) == before


def test_an_api_json_body_under_the_limit_still_works(world: World):
    body = json.dumps({"email": "nina@n.test", "role": "viewer"})
    response = client_for(world.a.owner).post(reverse("api:invitation-list"), body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert "nina@n.test" in invitations_of(world)


def test_an_oversized_form_post_is_a_413_page(world: World):
    before = invitations_of(world)
    form = {"email": "nina@n.test", "role": "viewer", "note": "x" * LIMIT}
    response = client_for(world.a.owner).post(reverse("accounts:members"), form)
    assert response.status_code == 413
    page = response.content.decode()
    assert 'data-testid="error-413"' in page
    assert "too large" in page
    assert invitations_of(world) == before


def test_a_signed_out_oversized_post_is_a_413_too(db):
    answer = Client().post(reverse("account_login"), {"login": "a@a.test", "password": "x" * LIMIT})
    assert answer.status_code == 413
    assert 'data-testid="error-413"' in answer.content.decode()


def test_a_body_found_too_large_while_read_is_a_413_not_a_400(db):
    """The backstop (handler400) for a body whose size was not declared up front."""
    request = RequestFactory().post("/members/", {"email": "a@a.test"})
    assert bad_request(request, RequestDataTooBig("too big")).status_code == 413
    assert bad_request(request, SuspiciousOperation("other")).status_code == 400

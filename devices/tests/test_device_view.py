"""Camera routes open the token's household scope themselves (``DeviceAPIView``)."""

from typing import Any

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from accounts.tenancy import account_scope, active_account_id
from conftest import World
from devices.api.authentication import DeviceAPIView
from devices.models import Camera

pytestmark = pytest.mark.django_db


class Rename(DeviceAPIView):
    """Renames the token's camera, then fails the way the request asks."""

    seen: list[Any] = []

    def post(self, request: Request) -> Response:
        self.seen.append(active_account_id())
        camera_id = self.principal(request).camera_id
        Camera.objects.filter(pk=camera_id).update(name="renamed")
        if request.data.get("fail") == "refuse":
            raise ValidationError("refused after writing")
        if request.data.get("fail") == "crash":
            raise RuntimeError("crashed after writing")
        return Response(status=204)


def post(world: World, fail: str = "") -> Any:
    request = APIRequestFactory().post(
        "/x", {"fail": fail}, format="json", HTTP_AUTHORIZATION=f"Bearer {world.a.tokens[0]}"
    )
    return Rename.as_view()(request)


def name(world: World) -> str:
    with account_scope(world.a.account.pk):
        return Camera.objects.get(pk=world.a.cameras[0].pk).name


def test_the_handler_runs_in_the_tokens_household_and_its_writes_stay(world: World):
    Rename.seen.clear()
    assert post(world).status_code == 204
    assert Rename.seen == [world.a.account.pk]
    assert name(world) == "renamed"
    assert active_account_id() is None  # closed with the request


def test_a_refusal_raised_after_writing_keeps_nothing(world: World):
    response = post(world, "refuse")
    assert response.status_code == 400
    assert name(world) == "Atkins family porch"
    assert active_account_id() is None


def test_a_crash_after_writing_keeps_nothing_and_closes_the_scope(world: World):
    with pytest.raises(RuntimeError):
        post(world, "crash")
    assert name(world) == "Atkins family porch"
    assert active_account_id() is None


def test_no_scope_opens_without_a_valid_token(world: World):
    Rename.seen.clear()
    request = APIRequestFactory().post("/x", {}, format="json", HTTP_AUTHORIZATION="Bearer nvr1.x.y.z")
    assert Rename.as_view()(request).status_code == 401
    assert Rename.seen == []

"""Support staff watch live under a grant; ending or expiry closes the socket within a second.

Real daphne, real sockets. The server's periodic re-check is an hour away, so a socket
that closes within a second was closed by the grant's message (ended) or by the
socket's own deadline (expired: nothing sends a message then).
"""

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent, AccessKind, AccessVia
from accounts.tenancy import account_scope, unscoped
from conftest import World, staff_client
from devices.consumers import CLOSE_REVOKED
from devices.tests.conftest import client_for, jpeg, open_device, open_watching, wait_closed
from nvr.testing import LiveHttpClient, LiveServer, daphne_server
from support.models import SupportGrant
from support.tests.factories import grant_give

pytestmark = pytest.mark.django_db(transaction=True)
WITHIN = 1.0


@pytest.fixture
def events_only(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    with django_db_blocker.unblock(), daphne_server(extra_env={"LIVE_RECHECK_SECONDS": "3600"}) as server:
        yield server


async def open_support(server: LiveServer, grant_id: Any, camera_id: Any, cookie: str) -> Any:
    return await open_watching(server, f"/ws/support/{grant_id}/live/{camera_id}/", cookie)


def staff_cookie() -> str:
    return f"sessionid={staff_client().cookies['sessionid'].value}"


def support_events(world: World) -> list[AccessEvent]:
    with account_scope(world.a.account.pk):
        return list(AccessEvent.objects.filter(via=AccessVia.SUPPORT).order_by("created_at"))


def test_staff_watch_under_the_grant_and_ending_it_closes_the_socket(events_only: LiveServer, world: World):
    grant = grant_give(world.a)
    cookie = staff_cookie()
    owner = LiveHttpClient(events_only, {"sessionid": client_for(world.a.owner).cookies["sessionid"].value})
    camera = world.a.cameras[0]

    async def scenario() -> tuple[bytes, int | None, float]:
        viewer = await open_support(events_only, grant.pk, camera.pk, cookie)
        device = await open_device(events_only, world.a.tokens[0])
        frame = jpeg(7)
        await device.send(frame)
        received = await asyncio.wait_for(viewer.recv(), 5)
        path = reverse("support-grants:end", args=[grant.pk])
        status = await asyncio.to_thread(owner.post, path, {"household": str(world.a.account.pk)})
        assert status == 302
        started = time.monotonic()
        code = await wait_closed(viewer, WITHIN + 1)
        elapsed = time.monotonic() - started
        await device.close()
        return received, code, elapsed

    received, code, elapsed = asyncio.run(scenario())
    assert received == jpeg(7)
    assert code == CLOSE_REVOKED
    assert elapsed < WITHIN
    deadline = time.monotonic() + 5
    while len(support_events(world)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    events = support_events(world)
    assert [e.kind for e in events] == [AccessKind.LIVE_START, AccessKind.LIVE_END]
    assert events[0].actor_label == "Support: Sam support"


def test_an_expiring_grant_closes_the_socket_on_its_own(events_only: LiveServer, world: World):
    grant = grant_give(world.a)
    expires = timezone.now() + timedelta(seconds=2)
    with unscoped("test: a grant about to expire"):
        SupportGrant.objects.filter(pk=grant.pk).update(expires_at=expires)
    cookie = staff_cookie()

    async def scenario() -> tuple[int | None, float]:
        viewer = await open_support(events_only, grant.pk, world.a.cameras[0].pk, cookie)
        code = await wait_closed(viewer, 6)
        return code, (timezone.now() - expires).total_seconds()

    code, late = asyncio.run(scenario())
    assert code == CLOSE_REVOKED
    assert -0.1 < late < WITHIN, f"closed {late:.2f} s after the grant expired"


@pytest.fixture
def rechecking(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """A daphne re-checking every second: what sends no message to it (an operator's command
    in another process, on the in-memory channel layer) is caught by the re-check."""
    with django_db_blocker.unblock(), daphne_server(extra_env={"LIVE_RECHECK_SECONDS": "1"}) as server:
        yield server


def test_deactivating_the_staff_member_closes_their_support_socket(rechecking: LiveServer, world: World):
    from accounts.staff import staff_deactivate

    grant = grant_give(world.a)
    staff = staff_client()
    cookie = f"sessionid={staff.cookies['sessionid'].value}"

    async def scenario() -> int | None:
        viewer = await open_support(rechecking, grant.pk, world.a.cameras[0].pk, cookie)
        await asyncio.to_thread(staff_deactivate, email=staff.staff.email)  # type: ignore[attr-defined]
        return await wait_closed(viewer, 3)

    assert asyncio.run(scenario()) == CLOSE_REVOKED

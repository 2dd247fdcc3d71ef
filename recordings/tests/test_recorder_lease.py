"""One recorder per camera: the lease (``recordings.recorder.lease``)."""

import threading
import uuid

import pytest
from django.db import close_old_connections, connection
from django_scopes.exceptions import ScopeError

from accounts.tenancy import account_scope
from conftest import World
from devices.ingest.worker import holder_name
from devices.models import Camera, CameraKind
from devices.services import camera_create
from recordings.recorder.lease import lease_release, lease_renew, lease_take


def take(world: World, camera: Camera, holder: str, seconds: float = 30) -> bool:
    with account_scope(world.a.account.pk):
        return lease_take(account_id=world.a.account.pk, camera_id=camera.pk, holder=holder, seconds=seconds)


def renew(world: World, camera: Camera, holder: str) -> bool:
    with account_scope(world.a.account.pk):
        return lease_renew(account_id=world.a.account.pk, camera_id=camera.pk, holder=holder, seconds=30)


@pytest.mark.django_db
def test_a_held_lease_is_refused_to_another_recorder_and_renewed_by_its_own(world: World):
    camera = world.a.cameras[0]
    one, two = holder_name(), holder_name()
    assert one != two  # the same process, two runs: two holders
    assert take(world, camera, one)
    assert not take(world, camera, two)
    assert take(world, camera, one)  # asking again is harmless
    assert renew(world, camera, one)
    assert not renew(world, camera, two)


@pytest.mark.django_db
def test_a_lapsed_lease_is_taken_over_and_its_old_holder_learns_it_at_renewal(world: World):
    camera = world.a.cameras[0]
    assert take(world, camera, "dead host", seconds=-1)  # its host died: never renewed, lapsed
    assert take(world, camera, "successor")
    assert not renew(world, camera, "dead host")  # came back: it must stop, not record twice
    assert not take(world, camera, "dead host")


@pytest.mark.django_db
def test_a_released_lease_is_free_at_once(world: World):
    camera = world.a.cameras[0]
    assert take(world, camera, "one")
    with account_scope(world.a.account.pk):
        lease_release(account_id=world.a.account.pk, camera_id=camera.pk, holder="someone else")
    assert not take(world, camera, "two")  # only its holder releases it
    with account_scope(world.a.account.pk):
        lease_release(account_id=world.a.account.pk, camera_id=camera.pk, holder="one")
    assert take(world, camera, "two")


@pytest.mark.django_db
def test_the_lease_runs_only_in_its_households_scope(world: World):
    camera = world.a.cameras[0]
    with pytest.raises(ScopeError):
        lease_take(account_id=world.a.account.pk, camera_id=camera.pk, holder="x", seconds=30)
    with account_scope(world.b.account.pk), pytest.raises(ScopeError):
        lease_take(account_id=world.a.account.pk, camera_id=camera.pk, holder="x", seconds=30)


def race(world: World, camera: Camera, holders: list[str]) -> list[str]:
    """Every holder asks for the camera at the same moment, each on its own connection."""
    start = threading.Barrier(len(holders))
    won: list[str] = []
    errors: list[BaseException] = []

    def recorder(holder: str) -> None:
        try:
            start.wait()
            if take(world, camera, holder):
                won.append(holder)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=recorder, args=(holder,)) for holder in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return won


@pytest.mark.django_db(transaction=True)
def test_recorders_racing_for_a_camera_never_both_win(world: World):
    with account_scope(world.a.account.pk):
        owner = world.a.memberships["owner"]
        cameras = [camera_create(actor=owner, name=f"race {n}", kind=CameraKind.PUSH)[0] for n in range(8)]
    for n, camera in enumerate(cameras):
        if n % 2:  # half the rounds race for a lapsed lease, half for a camera never leased
            assert take(world, camera, "dead host", seconds=-1)
        holders = [f"recorder {n}.{k} {uuid.uuid4().hex[:4]}" for k in range(3)]
        won = race(world, camera, holders)
        assert len(won) == 1, f"round {n}: {won}"
        assert all(renew(world, camera, holder) == (holder in won) for holder in holders)

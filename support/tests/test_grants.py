"""Owners give support a time-limited grant, see every grant, and end one."""

from typing import Any

from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import account_scope
from conftest import World, client_for
from support.models import SupportGrant

GRANTS = "support-grants:list"


def give(client: Any, world: World, **fields: Any) -> Any:
    data = {"reason": "The porch camera drops out", "hours": "24", "whole_household": "on", **fields}
    data["household"] = str(world.a.account.pk)
    return client.post(reverse(GRANTS), {k: v for k, v in data.items() if v is not None})


def grants_of(world: World) -> list[SupportGrant]:
    with account_scope(world.a.account.pk):
        return list(SupportGrant.objects.prefetch_related("grant_cameras"))


def test_an_owner_gives_the_whole_household_for_a_day(alice, world: World):
    response = give(alice, world)
    assert response.status_code == 302
    (grant,) = grants_of(world)
    assert grant.all_cameras
    assert grant.is_active
    assert grant.granted_by_label == world.a.owner.display_name
    assert 23.9 < (grant.expires_at - grant.created_at).total_seconds() / 3600 <= 24
    page = alice.get(reverse(GRANTS)).content.decode()
    assert "The porch camera drops out" in page
    assert "Every camera" in page
    assert "End now" in page


def test_an_owner_gives_some_cameras_only(alice, world: World):
    camera = world.a.cameras[0]
    response = give(alice, world, whole_household=None, cameras=str(camera.pk))
    assert response.status_code == 302
    (grant,) = grants_of(world)
    assert not grant.all_cameras
    assert [gc.camera_id for gc in grant.grant_cameras.all()] == [camera.pk]


def test_a_grant_lasts_at_most_72_hours_and_says_why(alice, world: World):
    too_long = give(alice, world, hours="73")
    assert too_long.status_code == 400
    assert "at most 72 hours" in too_long.content.decode()
    assert give(alice, world, reason="  ").status_code == 400
    nothing = give(alice, world, whole_household=None)
    assert nothing.status_code == 400
    assert "at least one camera" in nothing.content.decode()
    assert give(alice, world, hours="0").status_code == 400
    both = give(alice, world, cameras=str(world.a.cameras[0].pk))  # every camera *and* one
    assert both.status_code == 400
    assert "not both" in both.content.decode()
    assert grants_of(world) == []


def test_another_households_camera_cannot_be_chosen(alice, world: World):
    response = give(alice, world, whole_household=None, cameras=str(world.b.cameras[0].pk))
    assert response.status_code == 400
    assert grants_of(world) == []


def test_members_see_the_grants_but_only_owners_give_or_end_them(world: World):
    give(client_for(world.a.owner), world)
    (grant,) = grants_of(world)
    for role in (Role.MEMBER, Role.VIEWER):
        client = client_for(world.a.people[role])
        page = client.get(reverse(GRANTS)).content.decode()
        assert "The porch camera drops out" in page
        assert "End now" not in page
        assert give(client, world).status_code == 403
        ended = client.post(reverse("support-grants:end", args=[grant.pk]), {"household": str(world.a.account.pk)})
        assert ended.status_code == 403
    assert grants_of(world)[0].is_active
    assert len(grants_of(world)) == 1


def test_an_owner_ends_a_grant(alice, world: World):
    give(alice, world)
    (grant,) = grants_of(world)
    response = alice.post(reverse("support-grants:end", args=[grant.pk]), {"household": str(world.a.account.pk)})
    assert response.status_code == 302
    (grant,) = grants_of(world)
    assert grant.ended_at is not None
    assert not grant.is_active
    assert grant.ended_by_label == world.a.owner.display_name
    assert "Ended by" in alice.get(reverse(GRANTS)).content.decode()


def test_a_member_limited_to_some_cameras_does_not_see_grants_of_the_others(world: World):
    from devices.tests.conftest import limit_member_and_viewer
    from support.tests.factories import grant_give

    limited = limit_member_and_viewer(world.a)  # the viewer sees the garden only
    grant_give(world.a, cameras=1)  # the porch
    page = client_for(world.a.viewer).get(reverse(GRANTS)).content.decode()
    assert "The porch camera drops out" not in page  # a grant of cameras they do not see is not theirs to see
    assert limited.porch.name not in page
    grant_give(world.a)  # every camera: shown, named as such
    assert "Every camera" in client_for(world.a.viewer).get(reverse(GRANTS)).content.decode()
    assert limited.porch.name in client_for(world.a.owner).get(reverse(GRANTS)).content.decode()

import uuid

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.audit import record_access
from accounts.models import AccessEvent, AccessKind, AccessVia
from accounts.tenancy import ScopeError, account_scope
from conftest import client_for


def test_the_household_reads_who_watched_what(alice, world):
    body = alice.get(reverse("accounts:access-history")).content.decode()
    assert "Atkins family front door clip" in body
    assert "Bob" in body
    assert "Played a clip" in body


def test_record_access_stores_who_what_and_where(world):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Firefox")
    camera_id = uuid.uuid4()
    with account_scope(world.a.account.pk):
        event = record_access(
            account_id=world.a.account.pk,
            actor=world.a.viewer,
            membership=world.a.memberships["viewer"],
            kind=AccessKind.LIVE_START,
            object_type="camera",
            object_id=camera_id,
            object_label="Garden",
            request=request,
        )
        stored = AccessEvent.objects.get(pk=event.pk)
    assert (stored.ip_address, stored.user_agent, stored.actor_label) == ("203.0.113.9", "Firefox", "Vera")
    assert stored.object_id == camera_id
    body = client_for(world.a.owner).get(reverse("accounts:access-history")).content.decode()
    assert "Garden" in body
    assert "Started watching live" in body


def test_support_access_is_labelled_as_support(world):
    with account_scope(world.a.account.pk):
        event = record_access(
            account_id=world.a.account.pk,
            actor=world.b.owner,
            kind=AccessKind.CLIP_PLAY,
            object_type="recording",
            object_id=uuid.uuid4(),
            via=AccessVia.SUPPORT,
        )
    assert event.actor_label == "Support: Charlie"
    assert event.membership is None


def test_record_access_refuses_to_write_into_another_household(world):
    with account_scope(world.a.account.pk), pytest.raises(ScopeError):
        record_access(
            account_id=world.b.account.pk,
            actor=world.a.owner,
            kind=AccessKind.CLIP_PLAY,
            object_type="recording",
            object_id=uuid.uuid4(),
        )


def test_the_api_lists_events_newest_first(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(world.a.viewer)
    results = client.get(reverse("api:accessevent-list")).json()["results"]
    assert [r["id"] for r in results] == [str(world.a.events[0].pk)]

"""Per-camera retention, motion and recording settings (form and API), the household's quota and storage shown."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account
from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.models import Camera, CameraKind
from recordings.models import CameraRecordingSettings
from recordings.retention import GB, format_bytes, storage_usage

pytestmark = pytest.mark.django_db

GOOD = {"retention_days": "7", "motion_sensitivity": "0.8", "motion_min_area_percent": "1.5"}


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def camera(household) -> Camera:
    with account_scope(household.account.pk):
        return Camera.objects.get(pk=household.cameras[0].pk)


def settings_of(household) -> tuple[int, float, float]:
    with account_scope(household.account.pk):
        c = CameraRecordingSettings.objects.get(camera_id=household.cameras[0].pk)
    return (c.retention_days, c.motion_sensitivity, c.motion_min_area_percent)


def quota_of(household) -> int:
    with account_scope(household.account.pk):
        return Account.objects.get().storage_quota_bytes


def test_it_lets_owners_and_members_tune_a_camera_in_the_portal(world: World):
    url = reverse("devices:camera-edit", args=[world.a.cameras[0].pk])
    page = client_for(world.a.member).get(url).content.decode()
    assert 'name="retention_days"' in page
    assert "Recordings are kept <strong>30 days</strong>" in page

    response = client_for(world.a.member).post(url, {"name": world.a.cameras[0].name, "enabled": "on", **GOOD})
    assert response.status_code == 302
    assert settings_of(world.a) == (7, 0.8, 1.5)
    assert "Recordings are kept <strong>7 days</strong>" in client_for(world.a.owner).get(url).content.decode()

    # Left empty: unchanged.
    client_for(world.a.owner).post(url, {"name": world.a.cameras[0].name, "enabled": "on"})
    assert settings_of(world.a) == (7, 0.8, 1.5)


def test_it_shows_readable_errors_for_bad_camera_settings_and_saves_nothing(world: World):
    url = reverse("devices:camera-edit", args=[world.a.cameras[0].pk])
    bad = {"retention_days": "0", "motion_sensitivity": "2", "motion_min_area_percent": "60"}
    response = client_for(world.a.owner).post(url, {"name": "Renamed", "enabled": "on", **bad})
    assert response.status_code == 400
    body = response.content.decode()
    assert "greater than or equal to 1" in body
    assert "less than or equal to 1" in body
    assert "less than or equal to 50" in body
    assert settings_of(world.a) == (30, 0.5, 0.2)
    assert camera(world.a).name == "Atkins family porch"


def test_it_refuses_viewers_and_other_households_in_the_portal(world: World):
    url = reverse("devices:camera-edit", args=[world.a.cameras[0].pk])
    assert client_for(world.a.viewer).post(url, {"name": "x", **GOOD}).status_code == 403
    assert client_for(world.b.owner).post(url, {"name": "x", **GOOD}).status_code == 404
    assert settings_of(world.a) == (30, 0.5, 0.2)


def test_it_lets_the_api_read_and_patch_camera_settings(world: World):
    url = reverse("devices-api:camera-detail", args=[world.a.cameras[0].pk])
    member = api(world.a.member)
    assert member.get(url).json()["retention_days"] == 30

    response = member.patch(url, {"retention_days": 90, "motion_sensitivity": 0.25}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["retention_days"], body["motion_sensitivity"], body["motion_min_area_percent"]) == (90, 0.25, 0.2)
    assert settings_of(world.a) == (90, 0.25, 0.2)

    bad = member.patch(url, {"retention_days": 4000, "motion_min_area_percent": 0}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"retention_days", "motion_min_area_percent"}
    assert api(world.a.viewer).patch(url, {"retention_days": 1}, format="json").status_code == 403
    assert api(world.b.owner).patch(url, {"retention_days": 1}, format="json").status_code == 404
    assert settings_of(world.a) == (90, 0.25, 0.2)


def test_it_lets_only_owners_set_the_storage_quota(world: World):
    url = reverse("recordings:storage")
    owner = client_for(world.a.owner)
    assert owner.post(url, {"storage_quota_gb": "5.5"}).status_code == 302
    assert quota_of(world.a) == int(Decimal("5.5") * GB)
    assert quota_of(world.b) == 20 * GB

    for person in (world.a.member, world.a.viewer):
        response = client_for(person).post(url, {"storage_quota_gb": "1000"})
        assert response.status_code == 403
    assert quota_of(world.a) == int(Decimal("5.5") * GB)

    bad = owner.post(url, {"storage_quota_gb": "0"})
    assert bad.status_code == 400
    assert "The quota must be between 0.1 and 1000 GB" in bad.content.decode()
    assert owner.post(url, {"storage_quota_gb": "lots"}).status_code == 400
    assert quota_of(world.a) == int(Decimal("5.5") * GB)


def test_it_shows_everyone_storage_used_against_the_quota(world: World):
    with account_scope(world.a.account.pk):
        used = storage_usage(world.a.account.pk).used_bytes
    expected = f"{format_bytes(used)} of 20 GB"
    for person in (world.a.owner, world.a.member, world.a.viewer):
        page = client_for(person).get(reverse("recordings:storage")).content.decode()
        assert expected in page
    viewer_page = client_for(world.a.viewer).get(reverse("recordings:storage")).content.decode()
    assert 'name="storage_quota_gb"' not in viewer_page
    owner_page = client_for(world.a.owner).get(reverse("recordings:storage")).content.decode()
    assert 'name="storage_quota_gb"' in owner_page
    assert 'value="20.0"' in owner_page


def recording_of(household) -> tuple[str, int, float, float]:
    with account_scope(household.account.pk):
        c = CameraRecordingSettings.objects.get(camera_id=household.cameras[0].pk)
    return (c.record_mode, c.segment_seconds, c.pre_roll_s, c.post_roll_s)


def test_a_pull_cameras_page_says_when_it_records_and_changes_it(world: World):
    with account_scope(world.a.account.pk):
        Camera.objects.filter(pk=world.a.cameras[0].pk).update(kind=CameraKind.PULL)
    url = reverse("devices:camera-edit", args=[world.a.cameras[0].pk])
    page = client_for(world.a.owner).get(url).content.decode()
    assert "It is recorded <strong>on motion</strong>, from 5 s before to 10 s after" in page
    assert 'name="record_mode"' in page
    form = {"name": world.a.cameras[0].name, "enabled": "on", "record_mode": "continuous", "segment_seconds": "120"}
    assert client_for(world.a.member).post(url, form).status_code == 302
    assert recording_of(world.a) == ("continuous", 120, 5.0, 10.0)
    page = client_for(world.a.owner).get(url).content.decode()
    assert "recorded <strong>continuously</strong>, in clips of about 120 s." in page

    bad = {**form, "record_mode": "sometimes", "segment_seconds": "5", "pre_roll_s": "31"}
    response = client_for(world.a.owner).post(url, bad)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice. sometimes is not one of the available choices." in body
    assert "greater than or equal to 10" in body
    assert "less than or equal to 30" in body
    assert recording_of(world.a) == ("continuous", 120, 5.0, 10.0)


def test_the_api_sets_the_recording_mode_and_refuses_an_unknown_one(world: World):
    url = reverse("devices-api:camera-detail", args=[world.a.cameras[0].pk])
    owner = api(world.a.owner)
    assert owner.get(url).json()["record_mode"] == "motion"
    response = owner.patch(url, {"record_mode": "off", "post_roll_s": 30}, format="json")
    assert response.status_code == 200
    assert (response.json()["record_mode"], response.json()["post_roll_s"]) == ("off", 30.0)
    bad = owner.patch(url, {"record_mode": "always"}, format="json")
    assert bad.status_code == 400
    assert bad.json() == {"record_mode": ['"always" is not a valid choice.']}
    assert recording_of(world.a) == ("off", 60, 5.0, 30.0)


def test_the_service_refuses_an_unknown_mode_from_any_caller(world: World):
    from django.core.exceptions import ValidationError

    from recordings.camera_settings import settings_save

    with account_scope(world.a.account.pk), pytest.raises(ValidationError) as refused:
        settings_save(camera(world.a), {"record_mode": "sometimes", "segment_seconds": 601})
    assert refused.value.message_dict == {
        "record_mode": ["Record is one of: motion, continuous, off."],
        "segment_seconds": ["Clips last between 10 and 600 seconds."],
    }


def test_an_owner_cannot_choose_a_quota_above_the_servers_ceiling(world: World, settings):
    """NVR_MAX_QUOTA_GB: the form says the ceiling, refuses more with a readable message, keeps the quota."""
    settings.NVR_MAX_QUOTA_GB = 50
    url = reverse("recordings:storage")
    owner = client_for(world.a.owner)
    page = owner.get(url).content.decode()
    assert "Up to 50 GB." in page
    assert 'max="50"' in page
    refused = owner.post(url, {"storage_quota_gb": "100000"})
    assert refused.status_code == 400
    assert "The quota must be between 0.1 and 50 GB (the most this server allows a household)." in (
        refused.content.decode()
    )
    assert quota_of(world.a) == 20 * GB
    assert owner.post(url, {"storage_quota_gb": "50"}).status_code == 302
    assert quota_of(world.a) == 50 * GB


def test_the_service_refuses_a_quota_above_the_ceiling_whoever_calls_it(world: World, settings):
    from django.core.exceptions import ValidationError

    from accounts.models import Role
    from recordings.retention import storage_quota_set

    settings.NVR_MAX_QUOTA_GB = 50
    with account_scope(world.a.account.pk), pytest.raises(ValidationError) as refused:
        storage_quota_set(actor=world.a.memberships[Role.OWNER], quota_gb=Decimal("50.1"))
    assert refused.value.message_dict == {
        "storage_quota_gb": ["The quota must be between 0.1 and 50 GB (the most this server allows a household)."]
    }
    assert quota_of(world.a) == 20 * GB


def test_the_storage_api_shows_the_quota_and_lets_owners_set_it_up_to_the_ceiling(world: World, settings):
    settings.NVR_MAX_QUOTA_GB = 50
    url = reverse("recordings-api:storage")
    with account_scope(world.a.account.pk):
        used = storage_usage(world.a.account.pk).used_bytes
    shown = api(world.a.viewer).get(url)
    assert shown.status_code == 200
    assert shown.json() == {
        "used_bytes": used,
        "quota_bytes": 20 * GB,
        "storage_quota_gb": "20.0",
        "max_quota_gb": "50.0",
    }
    owner = api(world.a.owner)
    refused = owner.put(url, {"storage_quota_gb": "100000"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "storage_quota_gb": ["The quota must be between 0.1 and 50 GB (the most this server allows a household)."]
    }
    assert quota_of(world.a) == 20 * GB
    for person in (world.a.member, world.a.viewer):
        assert api(person).put(url, {"storage_quota_gb": "10"}, format="json").status_code == 403
    assert quota_of(world.a) == 20 * GB
    saved = owner.put(url, {"storage_quota_gb": "12.5"}, format="json")
    assert saved.status_code == 200
    assert saved.json()["quota_bytes"] == int(Decimal("12.5") * GB) == quota_of(world.a)
    assert quota_of(world.b) == 20 * GB  # the caller's household only

"""The demo's cameras (bin/demo): two push cameras and, when it is served, an RTSP camera recorded."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.tenancy import unscoped
from recordings.models import CameraRecordingSettings

pytestmark = pytest.mark.django_db


def seed(*args: str) -> dict:
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo_cameras", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_rtsp_camera_is_a_pull_camera_recorded_continuously():
    first = seed("--rtsp-url", "rtsp://127.0.0.1:8554/cam")
    again = seed("--rtsp-url", "rtsp://127.0.0.1:8554/cam")
    assert [c["name"] for c in first["cameras"]] == ["Front door", "Garden"]
    assert [c["name"] for c in first["pull"]] == ["Driveway (RTSP)"]
    assert again["pull"][0]["id"] == first["pull"][0]["id"]  # each run reuses it
    with unscoped("test: the demo camera's settings"):
        row = CameraRecordingSettings.objects.get(camera_id=first["pull"][0]["id"])
    assert (row.record_mode, row.segment_seconds) == ("continuous", 30)


def test_without_an_rtsp_camera_only_the_push_cameras_are_made():
    assert seed()["pull"] == []

"""Security checks that CI runs with the tests: Django's deployment check on the production
settings, and ``Cache-Control: no-store`` on every answer to a camera's token or a share link
(the isolation matrix checks the signed-in people's answers)."""

import json
import os
import secrets
import subprocess
import sys
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import World
from nvr.testing import ROOT
from recordings.tests.factories import make_share_link
from tools.upload_testing import CREATE, call, clip_bytes, create, patch


def check_deploy(**extra: str) -> subprocess.CompletedProcess[str]:
    """``manage.py check --deploy`` as production starts: NVR_PRODUCTION=1 and its required secrets."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "DEBUG", "SESSION_", "CSRF_"))
    }
    env |= {
        "NVR_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "NVR_MASTER_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "nvr.example",
        "SITE_URL": "https://nvr.example",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_on_a_weakened_setting():
    """The check above can fail: HSTS switched off is a deployment warning, and a failure."""
    result = check_deploy(SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def assert_no_store(response: Any, what: str) -> None:
    assert "no-store" in response.get("Cache-Control", ""), f"{what}: {response.status_code} {response.headers}"


def test_every_answer_to_a_device_token_is_no_store(world: World, uploads_commit: Any):
    token = world.a.tokens[0]
    auth = {"Authorization": f"Bearer {token}"}
    heartbeat = reverse("devices-api:device-heartbeat")
    answers = {
        "heartbeat": Client().post(heartbeat, json.dumps({}), content_type="application/json", headers=auth),
        "heartbeat, wrong token": Client().post(heartbeat, headers={"Authorization": "Bearer nvr1.x.y.z"}),
        "heartbeat, no token": Client().post(heartbeat),
        "upload discovery": Client().options(CREATE, headers={"Tus-Resumable": "1.0.0"}),
        "upload too large": create(token, b"", length=10**15),
    }
    data = clip_bytes(200_000)
    created = create(token, data)
    answers["upload created"] = created
    location = created["Location"]
    answers["upload offset"] = call("HEAD", token, location)
    answers["upload part"] = patch(token, location, 0, data)
    answers["upload, another camera's token"] = call("HEAD", world.b.tokens[0], location)
    for what, response in answers.items():
        assert response.status_code < 500, what
        assert_no_store(response, what)
    assert answers["upload part"].status_code == 204, answers["upload part"].content


def test_every_answer_to_a_share_link_is_no_store(world_with_clips: World):
    _link, secret = make_share_link(world_with_clips.a)
    answers = {
        "page": Client().get(reverse("shared:page", args=[secret])),
        "video": Client().get(reverse("shared:video", args=[secret]), headers={"Range": "bytes=0-99"}),
        "thumbnail": Client().get(reverse("shared:thumbnail", args=[secret])),
        "unknown link": Client().get(reverse("shared:page", args=["not-a-real-secret"])),
    }
    assert [answers[what].status_code for what in ("page", "video", "thumbnail", "unknown link")] == [
        200,
        206,
        200,
        404,
    ]
    for what, response in answers.items():
        assert_no_store(response, what)


@pytest.fixture
def uploads_commit(commit_each_request: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload's on-commit work runs as each request ends; processing is not enqueued."""
    from recordings.tasks import process_recording

    monkeypatch.setattr(process_recording, "delay", lambda *args: None)

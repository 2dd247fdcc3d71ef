"""The production switch: refuses insecure defaults; passes Django's deploy checklist."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(**extra: str) -> dict[str, str]:
    return {
        "NVR_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "NVR_MASTER_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "nvr.example.org",
        **extra,
    }


def test_check_deploy_prints_no_warning_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": ""}, "random SECRET_KEY"),
        ({"SECRET_KEY": "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"}, "random SECRET_KEY"),
        ({"DEBUG": "1"}, "refuses DEBUG"),
        ({"ALLOWED_HOSTS": ""}, "needs ALLOWED_HOSTS"),
        ({"NVR_MASTER_KEY": ""}, "needs NVR_MASTER_KEY"),
        ({"DEBUG": "maybe"}, "is not a boolean"),
    ],
)
def test_production_refuses_insecure_settings(env, message):
    result = manage("check", **production(**env))
    assert result.returncode != 0
    assert message in result.stderr


def test_a_typo_in_a_number_stops_the_process():
    result = manage("check", SESSION_COOKIE_AGE="two weeks")
    assert result.returncode != 0
    assert "SESSION_COOKIE_AGE='two weeks' is not an integer" in result.stderr


def test_a_default_quota_above_the_ceiling_stops_the_process():
    result = manage("check", NVR_DEFAULT_STORAGE_QUOTA_GB="2000", NVR_MAX_QUOTA_GB="1000")
    assert result.returncode != 0
    assert "NVR_DEFAULT_STORAGE_QUOTA_GB=2000 must be between 1 and NVR_MAX_QUOTA_GB (1000)" in result.stderr
    assert manage("check", NVR_DEFAULT_STORAGE_QUOTA_GB="1000", NVR_MAX_QUOTA_GB="1000").returncode == 0

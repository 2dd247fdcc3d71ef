"""Data for ``live_fanout.py``: two households, a push camera in each, signed-in sessions.

Run against a migrated database (the environment says which, as for the site):

    DJANGO_SETTINGS_MODULE=nvr.settings PYTHONPATH=. python bench/nvr_setup.py --sessions 1

Prints one JSON line: ``{"a": {"camera": id, "token": ..., "cookies": [sessionid, ...]}, "b": {...}}``.
"""

import argparse
import json
import os
import secrets
import sys
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nvr.settings")
django.setup()

from django.test import Client  # noqa: E402  (needs the apps loaded)

from accounts.services import account_create, user_create  # noqa: E402
from accounts.tenancy import account_scope  # noqa: E402
from devices.models import CameraKind  # noqa: E402
from devices.services import camera_create  # noqa: E402


def household(label: str, sessions: int) -> dict[str, Any]:
    owner = user_create(
        email=f"bench-{label}-{secrets.token_hex(4)}@example.com",
        password=secrets.token_urlsafe(16),
        full_name=f"Bench owner {label.upper()}",
        email_verified=True,
    )
    membership = account_create(owner=owner, name=f"Bench household {label.upper()}")
    with account_scope(membership.account_id):
        camera, token = camera_create(actor=membership, name="Front door", kind=CameraKind.PUSH)
    assert token is not None
    cookies = []
    for _ in range(sessions):
        client = Client()
        client.force_login(owner)
        cookies.append(client.cookies["sessionid"].value)
    return {"account": str(membership.account_id), "camera": str(camera.pk), "token": token, "cookies": cookies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1, help="signed-in sessions per household's owner")
    args = parser.parse_args()
    data = {"a": household("a", args.sessions), "b": household("b", args.sessions)}
    sys.stdout.write(json.dumps(data) + "\n")


if __name__ == "__main__":
    main()

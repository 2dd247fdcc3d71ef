"""``manage.py vapid_keys``: make the site's Web Push key pair once (bin/demo runs it)."""

from typing import Any

from django.core.management.base import BaseCommand

from notifications.push import public_key, vapid_keys_ensure


class Command(BaseCommand):
    help = (
        "Make the VAPID key pair for Web Push in NVR_VAPID_KEY_FILE unless it exists or "
        "NVR_VAPID_PRIVATE_KEY is set; print the public key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        where, made = vapid_keys_ensure()
        self.stderr.write(f"VAPID key {'made in' if made else 'from'} {where}")
        self.stdout.write(public_key() or "")

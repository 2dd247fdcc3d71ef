from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.commands.seed_demo import DEMO_PEOPLE
from accounts.management.operator import OperatorCommand
from accounts.models import Membership, Role, User
from accounts.selectors import memberships_for_user
from accounts.tenancy import account_scope, user_scope
from devices.models import Camera, CameraKind
from devices.services import camera_create, camera_update, token_rotate

DEMO_CAMERAS = ["Front door", "Garden"]
DEMO_PULL_CAMERA = "Driveway (RTSP)"
# Recorded continuously in 30 s clips, so that the demo's timeline fills without waiting for motion.
DEMO_PULL_RECORDING = {"record_mode": "continuous", "segment_seconds": 30}


class Command(OperatorCommand):
    help = (
        "Give the demo household (seed_demo) its push cameras and a fresh token for each "
        "(tokens cannot be read back, so every run issues new ones). Use --json to pass them to simulate_camera. "
        "With --rtsp-url, also a pull camera read (and recorded) from that address."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--rtsp-url", default="", help="the demo RTSP camera's address (bin/demo serves one)")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = User.objects.filter(email=DEMO_PEOPLE[0][0]).first()
        if owner is None:
            raise CommandError("Run seed_demo first: there is no demo household.")
        with user_scope(owner.pk):
            memberships = [m for m in memberships_for_user(user_id=owner.pk) if m.role == Role.OWNER]
        if not memberships:
            raise CommandError("The demo owner owns no household: run seed_demo first.")
        membership: Membership = memberships[0]
        cameras = []
        with account_scope(membership.account_id, user_id=owner.pk):
            for name in DEMO_CAMERAS:
                camera = Camera.objects.filter(name=name).first()
                if camera is None:
                    camera, token = camera_create(actor=membership, name=name, kind=CameraKind.PUSH)
                else:
                    token = token_rotate(actor=membership, camera=camera)
                cameras.append({"id": str(camera.pk), "name": camera.name, "token": token})
            if options["rtsp_url"]:
                cameras.append(self._pull_camera(membership, options["rtsp_url"]))
        text = "\n".join(f"{c['name']}: {c['id']}" for c in cameras)
        self.emit(
            options,
            {"cameras": [c for c in cameras if c["token"]], "pull": [c for c in cameras if not c["token"]]},
            text,
        )

    def _pull_camera(self, membership: Membership, url: str) -> dict[str, Any]:
        camera = Camera.objects.filter(name=DEMO_PULL_CAMERA).first()
        if camera is None:
            camera, _none = camera_create(actor=membership, name=DEMO_PULL_CAMERA, kind=CameraKind.PULL, source_url=url)
        camera = camera_update(actor=membership, camera=camera, source_url=url, settings=DEMO_PULL_RECORDING)
        return {"id": str(camera.pk), "name": camera.name, "token": None}

from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.operator import OperatorCommand
from recordings.canary import run


class Command(OperatorCommand):
    help = (
        "After a deploy: two canary households each upload a clip and push live frames to the site at --url, "
        "then each must see exactly its own cameras, clips and thumbnails over HTTP and websockets, and none of "
        "the other's. Exits non-zero with a report on any mismatch. Run it on a server of the site."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--url", required=True, help="The live site, e.g. https://nvr.example.org")
        parser.add_argument(
            "--processing-wait",
            type=float,
            default=120.0,
            help="Seconds to wait for the uploaded clips' processing (thumbnails); 0 checks what is ready.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"].rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must start with http:// or https://")
        report, summary = run(url, processing_wait=options["processing_wait"])
        summary["report"] = report.problems
        lines = [
            f"canary against {url}: {summary['checks']} checks, {summary['thumbnails_checked']} thumbnails "
            f"and {summary['frames_checked']} live frames compared, {len(report.problems)} problem(s)",
            *(f"  MISMATCH: {problem}" for problem in report.problems),
        ]
        self.emit(options, summary, "\n".join(lines))
        if report.problems:
            raise CommandError(f"the canary found {len(report.problems)} problem(s); see the report above")

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.operator import OperatorCommand
from recordings.retention import format_bytes
from recordings.sweep import sweep


class Command(OperatorCommand):
    help = (
        "Compare stored files with recording rows: delete files without rows and rows without clips, clear "
        "missing thumbnails, remove stale partial uploads. Progress goes to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help="Report what would be repaired; change nothing.")
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=None,
            help="Leave files younger than this alone (default RECORDINGS_SWEEP_GRACE_MINUTES).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        grace_minutes = options["grace_minutes"]
        if grace_minutes is not None and grace_minutes < 0:
            raise CommandError("--grace-minutes must be 0 or more.")

        def progress(done: int, total: int, household: str) -> None:
            if options["verbosity"] > 0:
                self.stderr.write(f"[{done}/{total}] household {household}")

        report = sweep(
            dry_run=options["dry_run"],
            grace=None if grace_minutes is None else timedelta(minutes=grace_minutes),
            progress=progress,
        )
        verb = "would repair" if report.dry_run else "repaired"
        lines = [
            f"{report.households} households, {report.files_checked} files checked ({verb}):",
            f"  files without a recording: {report.orphan_files} ({format_bytes(report.orphan_bytes)})",
            *(f"    {name}" for name in report.orphan_file_names),
            f"  recordings without their clip: {report.rows_without_clip}",
            *(f"    {pk}" for pk in report.rows_without_clip_ids),
            f"  ready recordings without their thumbnail: {report.missing_thumbnails}",
            *(f"    {pk}" for pk in report.missing_thumbnail_ids),
            f"  recordings stuck before processing, enqueued again: {report.requeued}",
            *(f"    {pk}" for pk in report.requeued_ids),
            f"  unexpected names (left alone): {report.unexpected_names}",
            *(f"    {name}" for name in report.unexpected_file_names),
            f"  stale partial uploads removed: {_count(report.stale_partials)}",
            f"  expired uploads removed: {_count(report.expired_uploads)}",
            *(f"  note: {note}" for note in report.notes),
        ]
        self.emit(options, report.to_json(), "\n".join(lines))


def _count(value: int | None) -> str:
    return "skipped" if value is None else str(value)

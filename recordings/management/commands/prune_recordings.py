from typing import Any

from django.core.management.base import CommandParser

from accounts.management.operator import OperatorCommand
from recordings.retention import AccountPrune, enforce_retention, format_bytes


class Command(OperatorCommand):
    help = (
        "Delete clips older than their camera's retention, then the oldest clips of households over their "
        "storage quota (what the Celery beat task does every 15 minutes). Progress goes to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--batch-size", type=int, default=None, help="Rows deleted per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, total: int, pruned: AccountPrune) -> None:
            if options["verbosity"] > 0:
                self.stderr.write(
                    f"[{done}/{total}] household {pruned.account_id}: {pruned.expired} expired, "
                    f"{pruned.over_quota} over quota, {format_bytes(pruned.bytes_freed)} freed"
                )

        report = enforce_retention(batch_size=options["batch_size"], progress=progress)
        text = (
            f"{report.households} households: deleted {report.expired} expired and {report.over_quota} over-quota "
            f"recordings, freed {format_bytes(report.bytes_freed)}."
        )
        if report.failed:
            text += f" Failed (logged; retried next run): {', '.join(report.failed)}."
        self.emit(options, report.to_json(), text)

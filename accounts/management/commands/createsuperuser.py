"""Replaces Django's ``createsuperuser``: a superuser made here would have a password of
the operator's choosing, no second factor and no role. Operators use ``manage.py staff``."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used here: run `manage.py staff create --email ... --name ... --role superuser`."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("args", nargs="*")
        parser.add_argument("--noinput", "--no-input", action="store_true")
        parser.add_argument("--email")
        parser.add_argument("--username")

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(
            "createsuperuser is disabled: run `manage.py staff create --email ... --name ... --role superuser`, "
            "which prints a one-time link to set the password; a second factor is then required."
        )

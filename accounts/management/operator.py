"""Shared plumbing for operators' management commands: ``--json`` output and errors."""

import json
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Account
from accounts.tenancy import account_scope


class OperatorCommand(BaseCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def emit(self, options: dict[str, Any], data: dict[str, Any], text: str) -> None:
        self.stdout.write(json.dumps(data, default=str) if options["json"] else text)

    def fail(self, error: ValidationError) -> CommandError:
        return CommandError(" ".join(error.messages))


def parse_account_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a household id (a UUID; see list_accounts).") from None


def require_account(account_id: uuid.UUID) -> Account:
    """The household, looked up inside its own scope (call within account_scope)."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise CommandError(f"No household with id {account_id}.")
    return account


__all__ = ["OperatorCommand", "account_scope", "parse_account_id", "require_account"]

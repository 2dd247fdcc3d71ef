from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from accounts.management.operator import OperatorCommand, account_scope, parse_account_id, require_account
from accounts.models import Role
from accounts.services import OPERATOR, member_add


class Command(OperatorCommand):
    help = "Add an existing user to a household with a role."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--account", required=True, help="The household's id (see list_accounts).")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", choices=Role.values, default=Role.MEMBER)

    def handle(self, *args: Any, **options: Any) -> None:
        account_id = parse_account_id(options["account"])
        with account_scope(account_id):
            account = require_account(account_id)
            try:
                membership = member_add(actor=OPERATOR, email=options["email"], role=Role(options["role"]))
            except ValidationError as error:
                raise self.fail(error) from None
        data = {
            "membership": {"id": str(membership.pk), "role": membership.role},
            "account": {"id": str(account.pk), "name": account.name},
            "user": {"id": str(membership.user_id), "email": membership.user.email},
        }
        self.emit(options, data, f"Added {membership.user.email} to {account.name} as {membership.role}")

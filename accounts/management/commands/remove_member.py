from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from accounts.management.operator import OperatorCommand, account_scope, parse_account_id, require_account
from accounts.models import Membership
from accounts.services import OPERATOR, member_remove


class Command(OperatorCommand):
    help = "Remove a user from a household (never its last owner)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--account", required=True, help="The household's id (see list_accounts).")
        parser.add_argument("--email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        account_id = parse_account_id(options["account"])
        email = options["email"].strip().lower()
        with account_scope(account_id):
            account = require_account(account_id)
            membership = Membership.objects.filter(user__email=email).first()
            if membership is None:
                raise CommandError(f"{email} is not a member of {account.name}.")
            try:
                member_remove(actor=OPERATOR, membership=membership)
            except ValidationError as error:
                raise self.fail(error) from None
        data = {"removed": {"email": email, "account": str(account.pk)}}
        self.emit(options, data, f"Removed {email} from {account.name}")

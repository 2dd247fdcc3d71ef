import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser
from django.db import transaction

from accounts.management.operator import OperatorCommand
from accounts.models import User
from accounts.services import account_create, user_create


class Command(OperatorCommand):
    help = "Create a household with an owner (an existing user, or a new one with a generated password)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--name", required=True, help="The household's name.")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-name", default="")
        parser.add_argument("--owner-password", help="For a new user; generated and printed when omitted.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["owner_email"].strip().lower()
        password = None
        try:
            with transaction.atomic():
                owner = User.objects.filter(email=email).first()
                if owner is None:
                    password = options["owner_password"] or secrets.token_urlsafe(12)
                    # The operator vouches for the address.
                    owner = user_create(
                        email=email, password=password, full_name=options["owner_name"], email_verified=True
                    )
                membership = account_create(owner=owner, name=options["name"])
        except ValidationError as error:
            raise self.fail(error) from None
        data = {
            "account": {"id": str(membership.account_id), "name": membership.account.name},
            "owner": {"id": str(owner.pk), "email": owner.email, "created": password is not None},
            "password": password if password and not options["owner_password"] else None,
        }
        text = f"Created household {membership.account.name} ({membership.account_id}), owner {owner.email}"
        if data["password"]:
            text += f", password {password}"
        self.emit(options, data, text)

"""Operators manage staff accounts here, and only here (the admin cannot make or change them)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from accounts.management.operator import OperatorCommand
from accounts.staff import (
    StaffRole,
    password_set_link,
    staff_create,
    staff_deactivate,
    staff_list,
    staff_reset_sign_in,
    staff_role,
    staff_set_role,
)

ROLES = [role.value for role in StaffRole]


class Command(OperatorCommand):
    help = "Create, change, deactivate and list support staff and superusers."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="A new staff account; prints a one-time link to set its password.")
        create.add_argument("--email", required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--role", choices=ROLES, required=True)
        set_role = sub.add_parser("set-role", help="Change a staff account's role.")
        set_role.add_argument("--email", required=True)
        set_role.add_argument("--role", choices=ROLES, required=True)
        deactivate = sub.add_parser("deactivate", help="Take away staff rights and sign-in, end every session.")
        deactivate.add_argument("--email", required=True)
        reset = sub.add_parser(
            "reset-sign-in", help="Remove a staff member's password and second factor; prints a new one-time link."
        )
        reset.add_argument("--email", required=True)
        listing = sub.add_parser("list", help="Every staff account with its role.")
        for subparser in (create, set_role, deactivate, reset, listing):
            OperatorCommand.add_arguments(self, subparser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data, text = getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except ValidationError as error:
            raise self.fail(error) from None
        self.emit(options, data, text)

    def _create(self, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        user = staff_create(email=options["email"], full_name=options["name"], role=StaffRole(options["role"]))
        link = password_set_link(user=user)
        data = {"user": {"id": str(user.pk), "email": user.email, "role": staff_role(user)}, "password_link": link}
        text = (
            f"Created {user.email} ({staff_role(user)}).\n"
            f"Give them this one-time link to set their password (then they set up a second factor):\n{link}"
        )
        return data, text

    def _set_role(self, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        user = staff_set_role(email=options["email"], role=StaffRole(options["role"]))
        role = staff_role(user)
        return {"user": {"id": str(user.pk), "email": user.email, "role": role}}, f"{user.email} is now {role}."

    def _deactivate(self, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        user = staff_deactivate(email=options["email"])
        return {"user": {"id": str(user.pk), "email": user.email, "active": False}}, f"Deactivated {user.email}."

    def _reset_sign_in(self, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        user = staff_reset_sign_in(email=options["email"])
        link = password_set_link(user=user)
        data = {"user": {"id": str(user.pk), "email": user.email}, "password_link": link}
        text = (
            f"Removed the password and second factor of {user.email} and ended their sessions.\n"
            f"Give them this one-time link to set a password (then a new second factor):\n{link}"
        )
        return data, text

    def _list(self, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        rows = staff_list()
        lines = [
            f"{row['email']}  {row['role']}  {'active' if row['active'] else 'deactivated'}"
            f"  second factor: {'yes' if row['second_factor'] else 'no'}"
            for row in rows
        ]
        return {"staff": rows}, "\n".join(lines) or "No staff accounts."

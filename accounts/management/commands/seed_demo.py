from typing import Any

from django.db import transaction

from accounts.management.operator import OperatorCommand
from accounts.models import Membership, Role, User
from accounts.selectors import memberships_for_user
from accounts.services import OPERATOR, account_create, member_add, user_create
from accounts.tenancy import account_scope, user_scope

DEMO_PASSWORD = "demo-household-pass"  # noqa: S105  (the demo prints it; real households sign up)
DEMO_PEOPLE = [
    ("owner@demo.local", "Olivia Owner"),
    ("member@demo.local", "Max Member"),
    ("viewer@demo.local", "Vic Viewer"),
]


class Command(OperatorCommand):
    help = "Create the demo household and its people (idempotent). Prints the owner's login."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            users = {}
            for email, name in DEMO_PEOPLE:
                user = User.objects.filter(email=email).first()
                users[email] = user or user_create(
                    email=email, password=DEMO_PASSWORD, full_name=name, email_verified=True
                )
            owner = users["owner@demo.local"]

            with user_scope(owner.pk):
                existing = memberships_for_user(user_id=owner.pk)
            membership = existing[0] if existing else account_create(owner=owner, name="Demo household")
            with account_scope(membership.account_id):
                for email, role in (("member@demo.local", Role.MEMBER), ("viewer@demo.local", Role.VIEWER)):
                    if not Membership.objects.filter(user=users[email]).exists():
                        member_add(actor=OPERATOR, email=email, role=role)
        data = {"account": str(membership.account_id), "login": {"email": owner.email, "password": DEMO_PASSWORD}}
        self.emit(options, data, f"Demo household ready. Sign in as {owner.email} / {DEMO_PASSWORD}")

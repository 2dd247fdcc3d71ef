from typing import Any

from accounts.management.operator import OperatorCommand
from accounts.models import Account, Membership
from accounts.tenancy import unscoped


class Command(OperatorCommand):
    help = "List every household with its members (operators only: runs unscoped)."

    def handle(self, *args: Any, **options: Any) -> None:
        with unscoped("operator command: list_accounts"):
            accounts = list(Account.objects.order_by("name", "created_at"))
            members: dict[Any, list[dict[str, str]]] = {account.pk: [] for account in accounts}
            for membership in Membership.objects.select_related("user").order_by("created_at"):
                members[membership.account_id].append({"email": membership.user.email, "role": membership.role})
        data = {
            "accounts": [
                {"id": str(a.pk), "name": a.name, "created_at": a.created_at.isoformat(), "members": members[a.pk]}
                for a in accounts
            ]
        }
        lines = [f"{a.pk}  {a.name}  ({len(members[a.pk])} members)" for a in accounts]
        self.emit(options, data, "\n".join(lines) or "No households.")

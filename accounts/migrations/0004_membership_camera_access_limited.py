from django.db import migrations, models

from accounts.migration_ops import DropSameAccountForeignKey, SameAccountForeignKey

# SQLite rebuilds accounts_membership to add a NOT NULL column: its children's triggers go first.
CHILDREN = [{"table": "accounts_accessevent", "column": "membership_id", "parent_table": "accounts_membership"}]


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_account_storage_quota_bytes")]

    operations = [
        *[DropSameAccountForeignKey(**child) for child in CHILDREN],
        migrations.AddField(
            model_name="membership",
            name="camera_access_limited",
            field=models.BooleanField(default=False),
        ),
        *[SameAccountForeignKey(**child) for child in CHILDREN],
    ]

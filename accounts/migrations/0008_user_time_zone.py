"""User.time_zone: the IANA zone a person chose for the times pages show ("": their browser's).

``ALTER TABLE ... ADD COLUMN`` on both databases instead of ``AddField``, for the reason
given in recordings 0004 (SQLite would rebuild the table, under the tables that refer to it).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_access_kind_snapshot")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE accounts_user ADD COLUMN time_zone varchar(64) NOT NULL DEFAULT ''",
                    reverse_sql="ALTER TABLE accounts_user DROP COLUMN time_zone",
                )
            ],
            state_operations=[
                migrations.AddField(
                    model_name="user", name="time_zone", field=models.CharField(blank=True, max_length=64)
                )
            ],
        )
    ]

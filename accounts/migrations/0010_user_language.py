"""User.language: the language a person chose for the pages and emails ("": their browser's).

``ALTER TABLE ... ADD COLUMN`` on both databases instead of ``AddField``, for the reason
given in recordings 0004 (SQLite would rebuild the table, under the tables that refer to it).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_access_share_link")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE accounts_user ADD COLUMN language varchar(8) NOT NULL DEFAULT ''",
                    reverse_sql="ALTER TABLE accounts_user DROP COLUMN language",
                )
            ],
            state_operations=[
                migrations.AddField(model_name="user", name="language", field=models.CharField(blank=True, max_length=8))
            ],
        )
    ]

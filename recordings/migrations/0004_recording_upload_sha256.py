"""Recording.upload_sha256: the SHA-256 the camera uploaded, kept when processing remuxes the clip.

A retried creation with the same Idempotency-Key but another clip is then a 409
instead of the earlier recording. Rows from before get '' (nothing to compare).

One ``ALTER TABLE ... ADD COLUMN`` on both databases instead of ``AddField``:
SQLite would rebuild the table for a NOT NULL column, which breaks the
same-account triggers that name it (``accounts.migration_ops``); PostgreSQL
adds a column with a constant default without rewriting the table. The
column keeps its database default '', the same as the model's.
"""

from django.db import migrations, models

ADD = "ALTER TABLE recordings_recording ADD COLUMN upload_sha256 varchar(64) NOT NULL DEFAULT ''"
DROP = "ALTER TABLE recordings_recording DROP COLUMN upload_sha256"


class Migration(migrations.Migration):
    dependencies = [("recordings", "0003_tenant_policies_once_per_query")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD, reverse_sql=DROP)],
            state_operations=[
                migrations.AddField(
                    model_name="recording",
                    name="upload_sha256",
                    field=models.CharField(blank=True, default="", max_length=64),
                ),
            ],
        ),
    ]

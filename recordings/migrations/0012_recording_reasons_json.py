"""Recording.reasons_json: the stored reasons as msgids and parameters, so pages can translate them.

Added with ``ALTER TABLE ... ADD COLUMN`` on both databases, for the reason given
in 0004 (SQLite must not rebuild the table under its same-account triggers).
Nullable: rows from before keep NULL and show their stored English.
"""

from django.db import migrations, models

ADD = "ALTER TABLE recordings_recording ADD COLUMN reasons_json text NULL"
DROP = "ALTER TABLE recordings_recording DROP COLUMN reasons_json"


class Migration(migrations.Migration):
    dependencies = [("recordings", "0011_recording_processing_claim")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD, reverse_sql=DROP)],
            state_operations=[
                migrations.AddField(
                    model_name="recording",
                    name="reasons_json",
                    field=models.TextField(blank=True, editable=False, null=True),
                ),
            ],
        ),
    ]

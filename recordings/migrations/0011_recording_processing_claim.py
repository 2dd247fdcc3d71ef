"""Recording.processing_attempts and processing_started_at: the processing claim.

One attempt at a time processes a clip (``recordings.processing``); the requeue
(``recordings.requeue``) takes over a claim its dead worker left stale. A partial
index keeps the requeue's minute scan to the clips being processed.

``processing_attempts`` is added with ``ALTER TABLE ... ADD COLUMN`` on both
databases instead of ``AddField``, for the reason given in 0004 (SQLite would
rebuild the table for a NOT NULL column and break the same-account triggers);
rows from before get 0, the model's default. The nullable timestamp needs no rebuild.
"""

from django.db import migrations, models

ADD = (
    "ALTER TABLE recordings_recording ADD COLUMN processing_attempts integer NOT NULL DEFAULT 0 "
    "CHECK (processing_attempts >= 0)"
)
DROP = "ALTER TABLE recordings_recording DROP COLUMN processing_attempts"


class Migration(migrations.Migration):
    dependencies = [("recordings", "0010_share_link")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD, reverse_sql=DROP)],
            state_operations=[
                migrations.AddField(
                    model_name="recording",
                    name="processing_attempts",
                    field=models.PositiveIntegerField(default=0),
                ),
            ],
        ),
        migrations.AddField(
            model_name="recording",
            name="processing_started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(
                condition=models.Q(("status", "processing")),
                fields=["processing_started_at"],
                name="recording_processing_claim",
            ),
        ),
    ]

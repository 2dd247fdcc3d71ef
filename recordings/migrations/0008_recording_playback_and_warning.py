"""Recording.container, playable_in_browser, not_playable_reason and warning (clips as cameras make them).

- ``container``: "mp4" (uploaded, or remuxed from MPEG-TS or Matroska) or "webm" (kept as uploaded);
- ``playable_in_browser`` and ``not_playable_reason``: a READY clip browsers cannot play
  (H.265, High 10 …) is marked "download to play" with a readable reason;
- ``warning``: what a READY clip lost (damaged stretches, sound left out).

Rows from before are MP4s assumed playable, with no warning: the database
defaults below, the same as the model's. ``ALTER TABLE ... ADD COLUMN`` on both
databases instead of ``AddField``, for the reason given in 0004 (SQLite would
rebuild the table and break the same-account triggers).
"""

from django.db import migrations, models

COLUMNS = {
    "container": "varchar(8) NOT NULL DEFAULT 'mp4'",
    "playable_in_browser": "boolean NOT NULL DEFAULT true",
    "not_playable_reason": "varchar(300) NOT NULL DEFAULT ''",
    "warning": "varchar(300) NOT NULL DEFAULT ''",
}


class Migration(migrations.Migration):
    dependencies = [("recordings", "0007_record_mode")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"ALTER TABLE recordings_recording ADD COLUMN {name} {definition}",
                    reverse_sql=f"ALTER TABLE recordings_recording DROP COLUMN {name}",
                )
                for name, definition in COLUMNS.items()
            ],
            state_operations=[
                migrations.AddField(
                    model_name="recording",
                    name="container",
                    field=models.CharField(choices=[("mp4", "MP4"), ("webm", "WebM")], default="mp4", max_length=8),
                ),
                migrations.AddField(
                    model_name="recording",
                    name="not_playable_reason",
                    field=models.CharField(blank=True, max_length=300),
                ),
                migrations.AddField(
                    model_name="recording",
                    name="playable_in_browser",
                    field=models.BooleanField(default=True),
                ),
                migrations.AddField(
                    model_name="recording",
                    name="warning",
                    field=models.CharField(blank=True, max_length=300),
                ),
            ],
        ),
    ]

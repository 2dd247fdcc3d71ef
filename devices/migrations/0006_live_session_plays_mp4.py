"""LiveSession.plays_mp4: whether the viewer's browser plays H.264 live as MP4.

A pull worker makes JPEG pictures (decoding) only while a viewer who needs them
watches. ``ALTER TABLE ... ADD COLUMN`` on both databases instead of ``AddField``,
for the reason given in recordings 0004 (SQLite would rebuild the table and break
the same-account triggers).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("devices", "0005_recording_settings_moved")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE devices_livesession ADD COLUMN plays_mp4 boolean NOT NULL DEFAULT false",
                    reverse_sql="ALTER TABLE devices_livesession DROP COLUMN plays_mp4",
                )
            ],
            state_operations=[
                migrations.AddField(
                    model_name="livesession", name="plays_mp4", field=models.BooleanField(default=False)
                )
            ],
        )
    ]

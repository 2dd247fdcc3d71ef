"""LiveSession.plays_mp4 and plays_hevc: whether the viewer's browser plays H.264 (and H.265)
live as MP4.

A pull worker makes JPEG pictures (decoding) only while a viewer who needs them
watches. ``ALTER TABLE ... ADD COLUMN`` on both databases instead of ``AddField``,
for the reason given in recordings 0004 (SQLite would rebuild the table and break
the same-account triggers).
"""

from django.db import migrations, models

COLUMNS = ("plays_mp4", "plays_hevc")


class Migration(migrations.Migration):
    dependencies = [("devices", "0005_recording_settings_moved")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"ALTER TABLE devices_livesession ADD COLUMN {name} boolean NOT NULL DEFAULT false",
                    reverse_sql=f"ALTER TABLE devices_livesession DROP COLUMN {name}",
                )
                for name in COLUMNS
            ],
            state_operations=[
                migrations.AddField(model_name="livesession", name=name, field=models.BooleanField(default=False))
                for name in COLUMNS
            ],
        )
    ]

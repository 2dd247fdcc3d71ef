from django.db import migrations

from accounts.migration_ops import EnableRowLevelSecurity, SameAccountForeignKey


class Migration(migrations.Migration):
    dependencies = [("recordings", "0001_initial"), ("devices", "0003_camera_recording_settings")]

    operations = [
        EnableRowLevelSecurity(table="recordings_storagekey"),
        EnableRowLevelSecurity(table="recordings_recording"),
        EnableRowLevelSecurity(table="recordings_motionevent"),
        EnableRowLevelSecurity(table="recordings_upload"),
        SameAccountForeignKey(table="recordings_recording", column="camera_id", parent_table="devices_camera"),
        SameAccountForeignKey(table="recordings_upload", column="camera_id", parent_table="devices_camera"),
        SameAccountForeignKey(
            table="recordings_motionevent", column="recording_id", parent_table="recordings_recording"
        ),
    ]

from django.db import migrations

from accounts.migration_ops import EnableRowLevelSecurity, SameAccountForeignKey


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial"), ("accounts", "0002_tenancy_backstop")]

    operations = [
        EnableRowLevelSecurity(table="devices_camera"),
        EnableRowLevelSecurity(table="devices_devicetoken"),
        EnableRowLevelSecurity(table="devices_livesession"),
        SameAccountForeignKey(table="devices_devicetoken", column="camera_id", parent_table="devices_camera"),
        SameAccountForeignKey(table="devices_livesession", column="camera_id", parent_table="devices_camera"),
    ]

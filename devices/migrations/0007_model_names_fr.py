"""The cameras' model names, translatable: the support admin's index reads in the staff member's language."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0006_live_session_plays_mp4'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='camera',
            options={'ordering': ('name',), 'verbose_name': 'camera', 'verbose_name_plural': 'cameras'},
        ),
        migrations.AlterModelOptions(
            name='devicetoken',
            options={'ordering': ('-created_at',), 'verbose_name': 'device token', 'verbose_name_plural': 'device tokens'},
        ),
        migrations.AlterModelOptions(
            name='livesession',
            options={'ordering': ('started_at',), 'verbose_name': 'live session', 'verbose_name_plural': 'live sessions'},
        ),
    ]

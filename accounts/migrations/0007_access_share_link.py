"""AccessKind.SHARE_VIEW and AccessVia.LINK: views through a share link (choices only, no SQL)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_supportauditentry'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accessevent',
            name='kind',
            field=models.CharField(choices=[('live_start', 'Started watching live'), ('live_end', 'Stopped watching live'), ('clip_play', 'Played a clip'), ('clip_download', 'Downloaded a clip'), ('thumbnail', 'Viewed a thumbnail'), ('share_view', 'Opened a shared clip')], max_length=20),
        ),
        migrations.AlterField(
            model_name='accessevent',
            name='via',
            field=models.CharField(choices=[('member', 'Household member'), ('support', 'Support staff (under a grant)'), ('link', 'Shared link')], max_length=10),
        ),
    ]

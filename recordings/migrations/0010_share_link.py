"""Share links (``ShareLink``): the table, its row-level security and same-account keys."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models

from accounts.migration_ops import EnableRowLevelSecurity, SameAccountForeignKey


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0009_access_share_link'),
        ('recordings', '0009_motionevent_account_time'),
    ]

    operations = [
        migrations.CreateModel(
            name='ShareLink',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_by_label', models.CharField(max_length=254)),
                ('token_hash', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('expires_at', models.DateTimeField()),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('views', models.PositiveIntegerField(default=0)),
                ('last_viewed_at', models.DateTimeField(blank=True, null=True)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.membership')),
                ('recording', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='share_links', to='recordings.recording')),
            ],
            options={
                'ordering': ('-created_at',),
                'indexes': [models.Index(fields=['account', 'recording'], name='sharelink_recording')],
            },
        ),
        EnableRowLevelSecurity(table="recordings_sharelink"),
        SameAccountForeignKey(table="recordings_sharelink", column="recording_id", parent_table="recordings_recording"),
        SameAccountForeignKey(table="recordings_sharelink", column="created_by_id", parent_table="accounts_membership"),
    ]

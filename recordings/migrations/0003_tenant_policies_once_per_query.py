"""Tenant policies written before this migration called the tenant functions per row.

PostgreSQL then could not use the household comparison to bound index scans and
mis-estimated row counts (the timeline benchmark: 1.16x over the unscoped query).
Wrapped in scalar subqueries they are evaluated once per query.
"""

from django.db import migrations

from accounts.migration_ops import EvaluateTenantPolicyOncePerQuery

TABLES = [
    ("accounts_account", "id"),
    ("accounts_membership", "account_id"),
    ("accounts_accessevent", "account_id"),
    ("accounts_invitation", "account_id"),
    ("devices_camera", "account_id"),
    ("devices_devicetoken", "account_id"),
    ("devices_livesession", "account_id"),
    ("recordings_storagekey", "account_id"),
    ("recordings_recording", "account_id"),
    ("recordings_motionevent", "account_id"),
    ("recordings_upload", "account_id"),
]


class Migration(migrations.Migration):
    dependencies = [("recordings", "0002_tenancy_backstop")]

    operations = [EvaluateTenantPolicyOncePerQuery(table=table, column=column) for table, column in TABLES]

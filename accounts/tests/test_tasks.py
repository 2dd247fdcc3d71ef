import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from accounts.models import Role
from accounts.services import OPERATOR, member_add, user_create
from accounts.tasks import notify_member_added
from accounts.tenancy import TenancyError, account_scope
from nvr.celery import app


def test_it_emails_the_new_member(world):
    membership = world.a.memberships[Role.VIEWER]
    assert (
        notify_member_added.apply(
            args=(
                str(world.a.account.pk),
                str(membership.pk),
            )
        ).get()
        is True
    )
    [message] = mail.outbox
    assert message.to == ["vera@a.test"]
    assert "Atkins family" in message.subject


def test_another_households_id_finds_nothing(world):
    """Called with A's scope and B's membership id: a no-op, nothing sent."""
    theirs = world.b.memberships[Role.VIEWER]
    assert (
        notify_member_added.apply(
            args=(
                str(world.a.account.pk),
                str(theirs.pk),
            )
        ).get()
        is False
    )
    assert mail.outbox == []


def test_a_task_without_a_household_refuses_to_run(world):
    result = notify_member_added.apply(args=(None, str(world.a.memberships[Role.VIEWER].pk)))
    assert isinstance(result.result, TenancyError)
    assert mail.outbox == []


def test_a_deleted_row_ends_the_task_cleanly(world):
    from accounts.services import member_remove

    membership = world.a.memberships[Role.VIEWER]
    membership_id = str(membership.pk)
    with account_scope(world.a.account.pk):
        member_remove(actor=OPERATOR, membership=membership)
    assert (
        notify_member_added.apply(
            args=(
                str(world.a.account.pk),
                membership_id,
            )
        ).get()
        is False
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_it_through_the_configured_broker(world):
    """Nothing faked: the message goes through the broker (filesystem by default,
    RabbitMQ or Redis in CI) to a worker, which runs it in the household's scope."""
    newcomer = user_create(email="nina@n.test", password="a sturdy passphrase 42", full_name="Nina")
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        with account_scope(world.a.account.pk):
            member_add(actor=OPERATOR, email=newcomer.email, role=Role.MEMBER)
        deadline = time.monotonic() + 30
        while not any(m.to == ["nina@n.test"] for m in mail.outbox) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert any(m.to == ["nina@n.test"] for m in mail.outbox), "the worker did not deliver the task"

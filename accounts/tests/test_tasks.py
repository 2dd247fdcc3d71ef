import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from accounts.models import Role
from accounts.services import OPERATOR, invitation_create, invitation_revoke
from accounts.tasks import send_invitation_email
from accounts.tenancy import TenancyError, account_scope
from nvr.celery import app


def test_it_emails_the_invitation(world):
    invitation = world.a.invitations[0]
    assert send_invitation_email.apply(args=(str(world.a.account.pk), str(invitation.pk))).get() is True
    [message] = mail.outbox
    assert message.to == ["guest@a.test"]
    assert "Atkins family" in message.subject
    assert "/households/" in message.body


def test_another_households_id_finds_nothing(world):
    """Called with A's scope and B's invitation id: a no-op, nothing sent."""
    theirs = world.b.invitations[0]
    assert send_invitation_email.apply(args=(str(world.a.account.pk), str(theirs.pk))).get() is False
    assert mail.outbox == []


def test_a_task_without_a_household_refuses_to_run(world):
    result = send_invitation_email.apply(args=(None, str(world.a.invitations[0].pk)))
    assert isinstance(result.result, TenancyError)
    assert mail.outbox == []


def test_a_deleted_row_ends_the_task_cleanly(world):
    invitation = world.a.invitations[0]
    invitation_id = str(invitation.pk)
    with account_scope(world.a.account.pk):
        invitation_revoke(actor=OPERATOR, invitation=invitation)
    assert send_invitation_email.apply(args=(str(world.a.account.pk), invitation_id)).get() is False


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_it_through_the_configured_broker(world):
    """Nothing faked: the message goes through the broker (filesystem by default,
    RabbitMQ or Redis in CI) to a worker, which runs it in the household's scope."""
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        with account_scope(world.a.account.pk):
            invitation_create(actor=OPERATOR, email="nina@n.test", role=Role.MEMBER)
        deadline = time.monotonic() + 30
        while not any(m.to == ["nina@n.test"] for m in mail.outbox) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert any(m.to == ["nina@n.test"] for m in mail.outbox), "the worker did not deliver the task"

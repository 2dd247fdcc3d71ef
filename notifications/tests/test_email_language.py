"""Notification emails are written in each recipient's language (their account's: a Celery
task has no browser to ask), with the date in that language's format and their time zone."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.models import Role, User
from accounts.tenancy import account_scope
from conftest import World, client_for
from notifications import services
from notifications.tests.test_notifications import mail_to, notify, subscribe
from recordings.models import Recording
from recordings.tests.factories import make_recording

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
# The clip's motion (its start + 0.5 s, tests' factory) is 16:05:09 UTC: 17:05:09 in Paris.
STARTED = datetime(2026, 12, 2, 16, 5, 8, 600000, tzinfo=UTC)


def speaks(user: User, language: str, zone: str = "Europe/Paris") -> None:
    User.objects.filter(pk=user.pk).update(language=language, time_zone=zone)


def clip(world: World) -> Recording:
    with account_scope(world.a.account.pk):
        return make_recording(world.a.cameras[0], started_at=STARTED)


def test_the_motion_email_is_french_for_a_french_speaker_and_english_for_an_english_one(world: World):
    speaks(world.a.owner, "fr")
    speaks(world.a.member, "en")
    subscribe(world.a.memberships[Role.OWNER])
    subscribe(world.a.memberships[Role.MEMBER])
    with translation.override("en"):  # what the worker happens to have active must not leak in
        notify(clip(world))
        assert translation.get_language() == "en"
    camera, household = world.a.cameras[0].name, world.a.account.name

    (french,) = mail_to(world.a.owner)
    assert french.subject == f"Mouvement{NBSP}: {camera}"
    assert f"{camera} ({household}) a détecté du mouvement le 2 déc. 2026, 17:05:09 CET." in french.body
    assert f"Regarder le clip (connectez-vous en tant que membre de {household}){NBSP}:" in french.body
    assert "Pour choisir ce qui vous est signalé, et quand" in french.body
    assert "saw motion" not in french.body
    assert "Watch the clip" not in french.body

    (english,) = mail_to(world.a.member)
    assert english.subject == f"Motion: {camera}"
    assert f"{camera} ({household}) saw motion at Dec 2, 2026, 17:05:09 CET." in english.body
    assert f"Watch the clip (sign in as a member of {household}):" in english.body
    assert "Change what you are told about, or when:" in english.body
    assert "détecté" not in english.body


def test_a_person_who_chose_no_language_gets_the_sites(world: World):
    speaks(world.a.owner, "", zone="UTC")
    subscribe(world.a.memberships[Role.OWNER])
    with translation.override("fr"):  # a French page that happened to run before: not the recipient's choice
        notify(clip(world))
    (message,) = mail_to(world.a.owner)
    assert message.subject.startswith("Motion: ")
    assert "saw motion at Dec 2, 2026, 16:05:09 UTC." in message.body


def test_the_test_email_is_in_the_persons_language_whatever_the_browser(
    world: World, django_capture_on_commit_callbacks
):
    speaks(world.a.member, "fr")
    subscribe(world.a.memberships[Role.MEMBER])
    with django_capture_on_commit_callbacks(execute=True):
        # An English browser: the email still goes out in the language the person chose.
        answer = client_for(world.a.member).post(
            reverse("notifications:test"), {"household": str(world.a.account.pk)}, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert answer.status_code == 302
    (message,) = mail.outbox
    assert message.subject == "Notification de test"
    assert message.body.startswith(f"Ceci est une notification de test de {world.a.account.name}.")


def test_the_test_email_follows_the_account_not_the_page(world: World, django_capture_on_commit_callbacks):
    speaks(world.a.member, "en")
    subscribe(world.a.memberships[Role.MEMBER])
    membership = world.a.memberships[Role.MEMBER]
    with account_scope(world.a.account.pk), django_capture_on_commit_callbacks(execute=True):
        membership.user.refresh_from_db()
        with translation.override("fr"):
            assert services.notification_test_send(actor=membership) == ["email"]
    (message,) = mail.outbox
    assert message.subject == "Test notification"

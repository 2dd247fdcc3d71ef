"""Households and people in French beyond the pages: emails in the recipient's language
(written with no browser to ask), API errors, messages and the scripts' words."""

from datetime import UTC, datetime

from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.services import sign_in_notice_send
from accounts.tasks import send_invitation_email
from accounts.tests.factories import UserFactory
from accounts.tests.test_invitations import invite
from conftest import World, client_for

FRENCH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


def choose(user: User, *, language: str = "", time_zone: str = "") -> User:
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    return user


def test_the_sign_in_notice_is_in_the_persons_language_and_time_zone(world: World, monkeypatch):
    monkeypatch.setattr("accounts.services.timezone.now", lambda: datetime(2026, 12, 2, 16, 5, 9, tzinfo=UTC))
    alice = choose(world.a.owner, language="fr", time_zone="Europe/Paris")
    sign_in_notice_send(user=alice, address="127.0.0.7", browser="Firefox")
    [notice] = mail.outbox
    assert notice.subject == "[NVR] Nouvelle connexion à votre compte"
    assert "Quand\u00a0: 2 déc. 2026, 17:05:09 (Europe/Paris)" in notice.body  # 16:05 UTC
    assert "Adresse\u00a0: 127.0.0.7" in notice.body
    assert reverse("accounts:sessions") in notice.body


def test_the_sign_in_notice_of_a_person_without_a_choice_is_in_english(world: World):
    sign_in_notice_send(user=choose(world.a.owner), address="127.0.0.7", browser="Firefox")
    [notice] = mail.outbox
    assert notice.subject == "[NVR] New sign-in to your account"
    assert "(UTC)" in notice.body  # the site's zone


def test_an_invitation_is_written_in_the_invitees_language(world: World):
    UserFactory.create(email="nina@n.test", language="fr")
    invitation = invite(world.a, "nina@n.test", Role.VIEWER)
    mail.outbox.clear()  # the one sent when the invitation committed (eager tasks), if any
    assert send_invitation_email(str(world.a.account.pk), str(invitation.pk)) is True
    [email] = mail.outbox
    assert email.to == ["nina@n.test"]
    assert email.subject == "L'équipe du site vous invite à rejoindre Atkins family"
    assert "en tant que spectateur." in email.body
    assert "L'invitation expire le" in email.body


def test_an_invitation_to_an_unknown_address_is_in_the_inviters_language(world: World):
    choose(world.a.owner, language="fr")
    owner = APIClient()
    owner.force_login(world.a.owner)
    created = owner.post(reverse("api:invitation-list"), {"email": "new@n.test", "role": "member"}, format="json")
    assert created.status_code == 201, created.content
    mail.outbox.clear()
    assert send_invitation_email(str(world.a.account.pk), created.json()["id"]) is True
    [email] = mail.outbox
    assert email.subject == "Alice vous invite à rejoindre Atkins family"
    assert "en tant que membre." in email.body


def test_an_api_error_is_in_the_french_users_language(world: World):
    choose(world.a.owner, language="fr")
    owner = APIClient()
    owner.force_login(world.a.owner)
    # Vera is already a member: the service's refusal, by field, in French.
    response = owner.post(reverse("api:invitation-list"), {"email": "vera@a.test", "role": "viewer"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"email": ["Cette personne est déjà membre de ce foyer."]}
    # A viewer may not invite: DRF's 403 carries the service's message, in French too.
    choose(world.a.viewer, language="fr")
    viewer = APIClient()
    viewer.force_login(world.a.viewer)
    refused = viewer.post(reverse("api:invitation-list"), {"email": "x@n.test", "role": "viewer"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Seul un propriétaire de ce foyer peut gérer ses membres."


def test_the_same_api_error_is_english_for_an_english_browser(world: World):
    owner = APIClient()
    owner.force_login(world.a.owner)
    response = owner.post(
        reverse("api:invitation-list"),
        {"email": "vera@a.test", "role": "viewer"},
        format="json",
        **ENGLISH_BROWSER,  # type: ignore[arg-type]
    )
    assert response.json() == {"email": ["This person is already a member of this household."]}


def test_a_confirmation_and_its_message_are_french(world: World):
    client = client_for(world.a.owner)
    target = world.a.memberships[Role.VIEWER]
    page = client.get(reverse("accounts:member-remove", args=[target.pk]), **FRENCH_BROWSER)  # type: ignore[arg-type]
    html = page.content.decode()
    assert "Retirer Vera\u00a0?" in html
    assert "Retirer cette personne" in html
    done = client.post(
        reverse("accounts:member-remove", args=[target.pk]),
        {"confirmed": "yes", "household": str(world.a.account.pk)},
        follow=True,
        **FRENCH_BROWSER,  # type: ignore[arg-type]
    )
    assert "Vera a été retiré(e)." in done.content.decode()


def test_a_role_is_named_in_french_with_what_it_may_do(world: World):
    html = client_for(world.a.viewer).get(reverse("accounts:home"), **FRENCH_BROWSER).content.decode()  # type: ignore[arg-type]
    assert "Votre rôle ici\u00a0: <strong>spectateur</strong>, qui regarde la vidéo en direct et enregistrée." in html


def test_the_scripts_words_come_from_the_french_catalogue(db):
    catalogue = Client().get(reverse("javascript-catalog"), **FRENCH_BROWSER).content.decode()  # type: ignore[arg-type]
    assert '"Copied": "Copi\\u00e9"' in catalogue or '"Copied": "Copié"' in catalogue
    english = Client().get(reverse("javascript-catalog"), **ENGLISH_BROWSER).content.decode()  # type: ignore[arg-type]
    assert "Copi\\u00e9" not in english
    assert "Copié" not in english


def test_a_support_action_is_emailed_to_each_person_in_their_language(world: World, django_capture_on_commit_callbacks):
    from accounts.staff import user_sessions_end_by_support
    from conftest import staff_user

    choose(world.a.owner, language="fr", time_zone="Europe/Paris")  # Alice reads French; Bob, English
    with django_capture_on_commit_callbacks(execute=True):
        user_sessions_end_by_support(staff=staff_user("support"), user=world.a.member)
    by_person = {message.to[0]: message for message in mail.outbox}
    assert set(by_person) == {"alice@a.test", "bob@a.test"}
    assert by_person["alice@a.test"].subject == "[NVR] L'assistance a déconnecté Bob de toutes ses sessions"
    assert "(Atkins family, le " in by_person["alice@a.test"].body
    assert by_person["bob@a.test"].subject == "[NVR] Support signed Bob out of every session"


def test_a_password_reset_sent_by_support_is_in_the_persons_language(world: World, django_capture_on_commit_callbacks):
    from conftest import staff_client

    choose(world.a.viewer, language="fr")  # Vera reads French; the staff member's browser asks for English
    with django_capture_on_commit_callbacks(execute=True):
        staff_client("support").post(
            reverse("admin:accounts_user_changelist"),
            {"action": "send_password_reset", "_selected_action": [str(world.a.viewer.pk)]},
            **ENGLISH_BROWSER,  # type: ignore[arg-type]
        )
    [reset] = [m for m in mail.outbox if m.to == ["vera@a.test"] and "/password/reset/key/" in m.body]
    assert "réinitialisation de mot de passe" in reset.subject, reset.subject  # allauth's own French
    [notice] = [m for m in mail.outbox if m.to == ["vera@a.test"] and m is not reset]
    assert notice.subject == "[NVR] L'assistance a envoyé à Vera un e-mail de réinitialisation du mot de passe"


def test_the_server_error_page_is_in_the_language_of_the_request():
    # Django renders it with an empty context; the middleware's language is still active.
    with translation.override("fr"):
        html = render_to_string("500.html")
    assert '<html lang="fr">' in html
    assert "Une erreur s'est produite" in html


def test_a_refusal_says_why_in_french_and_keeps_the_households_name_untranslated(world: World):
    target = world.a.memberships[Role.MEMBER]
    viewer = client_for(world.a.viewer)
    response = viewer.get(reverse("accounts:member-edit", args=[target.pk]), **FRENCH_BROWSER)  # type: ignore[arg-type]
    assert response.status_code == 403
    html = response.content.decode()
    assert "Seul un propriétaire de ce foyer peut changer les rôles." in html
    assert 'Votre rôle dans <span translate="no">Atkins family</span>\u00a0: spectateur, qui regarde' in html


def test_the_support_log_stays_english_when_staff_read_french(world: World):
    from accounts.support_audit import support_entries_list
    from accounts.tenancy import account_scope
    from conftest import staff_client

    client = staff_client("support")
    page = client.get(reverse("admin:accounts_account_changelist"), **FRENCH_BROWSER)  # type: ignore[arg-type]
    assert "Foyers" in page.content.decode()  # the page is French ...
    with account_scope(world.a.account.pk):
        summaries = [entry.summary for entry in support_entries_list()]
    assert summaries == ["looked at the list of households"]  # ... its record, English

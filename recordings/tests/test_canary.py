"""``manage.py canary`` against a started daphne: passes on a healthy site, fails on a planted mismatch."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.tenancy import account_scope
from recordings import canary, files
from recordings.models import Recording
from recordings.processing import process

pytestmark = pytest.mark.django_db(transaction=True)


def run_canary(server) -> dict:
    out = io.StringIO()
    call_command("canary", "--url", server.http, "--processing-wait", "0", "--json", stdout=out)
    return json.loads(out.getvalue())


def process_canary_clips() -> list[Recording]:
    """The site's worker would: here the uploaded clips are processed in this process."""
    done = []
    for label in canary.LABELS:
        household = canary.prepare(label)
        with account_scope(household.account_id):
            pending = list(Recording.objects.filter(processed_at__isnull=True))
        for recording in pending:
            process(str(recording.account_id), str(recording.pk))
        with account_scope(household.account_id):
            done += list(Recording.objects.filter(has_thumbnail=True))
    return done


def test_the_canary_passes_on_a_healthy_site_and_reuses_its_households(asgi_server):
    first = run_canary(asgi_server)
    assert first["problems"] == 0, first["report"]
    assert first["frames_checked"] > 0
    assert {h["clips"] for h in first["households"].values()} == {1}
    assert len(process_canary_clips()) == 2

    second = run_canary(asgi_server)  # the same households: a second clip each, thumbnails compared
    assert second["problems"] == 0, second["report"]
    assert {h["clips"] for h in second["households"].values()} == {2}
    assert second["thumbnails_checked"] == 2  # each household's processed clip, over HTTP


def test_the_canary_fails_with_a_report_when_a_household_is_served_the_others_thumbnail(asgi_server):
    run_canary(asgi_server)
    clips = {str(recording.account_id): recording for recording in process_canary_clips()}
    a, b = (canary.prepare(label) for label in canary.LABELS)
    mine, theirs = clips[str(a.account_id)], clips[str(b.account_id)]
    # Planted: B's clip now carries A's picture, as a mixed-up cache or storage key would serve it.
    with account_scope(a.account_id):
        size = files.clip_storage.plaintext_size(account_id=a.account_id, object_id=mine.pk, kind=files.THUMBNAIL)
        picture = b"".join(files.open_range(mine, kind=files.THUMBNAIL, start=0, end_inclusive=size - 1))
    with account_scope(b.account_id):
        files.clip_storage.delete(account_id=b.account_id, object_id=theirs.pk, kind=files.THUMBNAIL)
        files.store(account_id=b.account_id, recording_id=theirs.pk, kind=files.THUMBNAIL, source=io.BytesIO(picture))

    out = io.StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("canary", "--url", asgi_server.http, "--processing-wait", "0", stdout=out)
    report = out.getvalue()
    assert "MISMATCH: household A was served thumbnails of the other household" in report
    assert "MISMATCH: household B was served thumbnails of the other household" in report

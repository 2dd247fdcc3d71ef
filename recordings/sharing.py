"""Share links: a third identity, besides people and cameras, worth one clip.

A link is ``/s/<secret>/``. The secret is 256 random bits; only its SHA-256 is
stored (``ShareLink.token_hash``), compared in constant time. The hash is looked
up across households (the only unscoped read here: the link's household and id,
nothing else); everything after that runs in that household's scope, on the
link's own clip. A link that is unknown, expired or revoked, or whose clip is
gone, is a 404 exactly like a missing page.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.tenancy import unscoped
from devices.selectors import filter_visible_cameras
from recordings.models import Recording, ShareLink

# Page views per link and minute before it answers 429: enough for people, not for a scraper.
VIEWS_PER_MINUTE = 30
# The secret's alphabet (``secrets.token_urlsafe``), checked before any lookup.
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> tuple[str, str]:
    """A new link's secret and the hash that is stored."""
    secret = secrets.token_urlsafe(32)
    return secret, token_hash(secret)


@dataclass(frozen=True)
class SharedClip:
    """What a genuine, active link reaches: its household (for the scope), itself and its clip."""

    account_id: uuid.UUID
    link: ShareLink
    recording: Recording


def link_account_id(secret: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The household and id of the link with this secret, if any (active or not)."""
    if not 20 <= len(secret) <= 100 or not set(secret) <= _ALPHABET:
        return None
    digest = token_hash(secret)
    with unscoped("share link: which household a link's hash belongs to"):
        row = ShareLink.objects.filter(token_hash=digest).values_list("account_id", "pk", "token_hash").first()
    # Compare even when there is no row, so timing says nothing more than the lookup did.
    expected = row[2] if row else "0" * 64
    if not hmac.compare_digest(expected, digest) or row is None:
        return None
    return row[0], row[1]


def shared_clip_in_scope(*, account_id: uuid.UUID, link_id: uuid.UUID) -> SharedClip:
    """Inside the link's household scope: the active link and its ready clip, else 404."""
    link = (
        ShareLink.objects.select_related("recording", "created_by")
        .filter(pk=link_id, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if link is None or not link.recording.is_ready or not _creator_may_still_share(link):
        raise Http404(_("No such page."))
    return SharedClip(account_id=account_id, link=link, recording=link.recording)


def _creator_may_still_share(link: ShareLink) -> bool:
    """A link lasts only while the person who made it may still share its clip: one an owner
    later limited away from the camera, or made a viewer, no longer hands the clip out.
    (Leaving the household deletes their links.)"""
    creator = link.created_by
    if not creator.can_delete_recordings:
        return False
    clip = Recording.objects.filter(pk=link.recording_id)
    return not creator.sees_some_cameras_only or filter_visible_cameras(clip, viewer=creator).exists()


def over_rate_limit(account_id: uuid.UUID, link_id: uuid.UUID) -> bool:
    """Counts one page view of the link in this minute; True past ``VIEWS_PER_MINUTE``.
    Without a cache, never (the views are still recorded)."""
    key = f"nvr:share-views:{account_id}:{link_id}:{int(timezone.now().timestamp() // 60)}"
    try:
        cache.add(key, 0, timeout=120)
        return cache.incr(key) > VIEWS_PER_MINUTE
    except Exception:
        return False

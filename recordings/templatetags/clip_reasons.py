"""``{{ recording|reason:"failure" }}``: a clip's stored reason in the reader's language."""

from django import template

from recordings.models import Recording
from recordings.selectors import REASON_FIELDS, reason_text

register = template.Library()


@register.filter
def reason(recording: Recording, field: str) -> str:
    """``field`` is ``failure``, ``not_playable`` or ``warning``; see ``selectors.reason_text``."""
    if field not in REASON_FIELDS:
        raise template.TemplateSyntaxError(f"reason: unknown field {field!r}")
    return reason_text(recording, field)

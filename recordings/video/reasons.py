"""The sentences processing stores about a clip, as msgids with named placeholders.

The worker has no reader, so it stores the English sentence (the API's field,
the logs) and, next to it, ``{"msgid": ..., "params": {...}}``; pages translate
that into the reader's language when they show it (``recordings.templatetags``).
No Django here: the isolated decoding process imports this module.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["CATALOGUE", "PHRASES", "Reason", "parse", "reason", "render"]

Reason = dict[str, Any]  # {"msgid": str, "params": {name: str | Reason}}


def gettext_noop(message: str) -> str:
    """Marks ``message`` for makemessages (its keyword list has this name) without importing Django."""
    return message


# Failures (Recording.failure_reason).
PROCESSING_FAILED = gettext_noop("processing failed")
TOO_LONG = gettext_noop("processing took too long")
UNREADABLE = gettext_noop("the stored clip could not be read")
INTERNAL = gettext_noop("processing failed because of an error on our side")
EMPTY = gettext_noop("the clip is empty")
UNDECODABLE = gettext_noop("the clip could not be decoded")
NEEDS_MEMORY = gettext_noop("the clip needs more memory than allowed")
NEEDS_MEMORY_MB = gettext_noop("the clip needs more memory than allowed (%(megabytes)s MB)")
TIMEOUT = gettext_noop("analysis took longer than %(seconds)s s")
CPU_TIME = gettext_noop("analysis used more than %(seconds)s s of CPU time")
TOO_MUCH_OUTPUT = gettext_noop("analysis wrote more output than allowed")
DECODER_CRASHED = gettext_noop("the clip could not be decoded: the decoder crashed on it")
ANALYSIS_STOPPED = gettext_noop("the clip could not be decoded: its analysis was stopped")
ANSWER_TOO_LARGE = gettext_noop("the analysis returned more data than allowed")
ANALYSIS_MALFORMED = gettext_noop("the analysis returned a malformed result")
PROBE_MALFORMED = gettext_noop("the probe returned a malformed result")
CHECK_MALFORMED = gettext_noop("checking the clip returned a malformed result")
NO_FILE = gettext_noop("the clip file does not exist")
NOT_OPENABLE = gettext_noop("the clip could not be decoded (not a video file OpenCV can open)")
NO_PICTURE_SIZE = gettext_noop("the clip could not be decoded (it has no picture size)")
FIRST_FRAME = gettext_noop("the clip could not be decoded (its first frame is unreadable)")
DIMENSIONS_OVER = gettext_noop("the clip's dimensions %(width)sx%(height)s exceed the limit of %(limit)s pixels")
SIZE_OVER = gettext_noop("the clip's picture size is invalid or over the limit of %(limit)s pixels")
NO_FRAME_RATE = gettext_noop("the clip has no usable frame rate (%(fps)s frames/s)")
NO_FRAMES = gettext_noop("the clip has no frames")
NO_PICTURE_DECODED = gettext_noop("no picture in the clip could be decoded")
NO_PICTURE_READ = gettext_noop("no picture in the clip could be read")
POSTER = gettext_noop("the poster could not be encoded")
MP4_NO_INDEX_CUT = gettext_noop("the MP4 file is incomplete: it was cut off before its index was written")
MP4_NO_INDEX = gettext_noop("the MP4 file is incomplete: it has no index")
MP4_BROKEN = gettext_noop("the MP4 file is damaged: its structure is broken")
MP4_UNREADABLE = gettext_noop("the MP4 file could not be read to move its index to the front")
MP4_NOT_MOVED = gettext_noop("remuxing did not move the index to the front")
NO_VIDEO_STREAM = gettext_noop("the clip has no video stream")
AUDIO_ONLY = gettext_noop("the file is audio only, with no video")
NO_VIDEO = gettext_noop("the file has no video in it")
UNREADABLE_CONTAINER = gettext_noop("the file looks like %(container)s but could not be read")
NOT_STORABLE = gettext_noop("the file is %(container)s whose video (%(codec)s) cannot be stored as MP4")
NOT_A_VIDEO = gettext_noop("the file is %(what)s, not a video")
RAW_STREAM = gettext_noop("the file is a raw %(codec)s stream without a container, so its timing is unknown")
AVI = gettext_noop("the file is an AVI video, a format not accepted here (use MP4, MPEG-TS, Matroska or WebM)")
OGG = gettext_noop("the file is an Ogg video, not accepted here")
NOT_VIDEO_FILE = gettext_noop("the file is not a video file")
# Why a browser cannot play a READY clip (Recording.not_playable_reason).
NOT_PLAYABLE = gettext_noop(
    "the clip is %(format)s video, which web browsers cannot play; download it to watch it in a player such as VLC"
)
# What a READY clip lost (Recording.warning): parts joined by "; ".
SOUND_LEFT_OUT = gettext_noop("the sound was left out: browsers cannot play %(sound)s")
CUT_OFF = gettext_noop(
    "the file was cut off: its last %(missing)s s (from %(start)s to %(end)s s into the clip) are missing"
)
DAMAGED_ONE = gettext_noop("%(lost)s s of video could not be decoded (a damaged stretch, at %(where)s into the clip)")
DAMAGED_MANY = gettext_noop(
    "%(lost)s s of video could not be decoded (%(count)s damaged stretches, at %(where)s into the clip)"
)
SPAN = gettext_noop("%(start)s to %(end)s s")
MORE = gettext_noop("%(count)s more")
LIST_TWO = gettext_noop("%(first)s and %(last)s")
LIST_THREE = gettext_noop("%(first)s, %(second)s and %(last)s")
LIST_FOUR = gettext_noop("%(first)s, %(second)s, %(third)s and %(last)s")
WARNING_PARTS = gettext_noop("%(first)s; %(second)s")

# Phrases that fill a placeholder and are translated too (codec names and numbers are not).
PHRASES = frozenset(
    {
        gettext_noop("an MP4 file"),
        gettext_noop("an MPEG-TS file"),
        gettext_noop("a Matroska file"),
        gettext_noop("a WebM file"),
        gettext_noop("a JPEG image"),
        gettext_noop("a PNG image"),
        gettext_noop("a GIF image"),
        gettext_noop("a HEIF or AVIF image"),
        gettext_noop("a PDF document"),
        gettext_noop("a ZIP archive"),
        gettext_noop("a text file"),
        gettext_noop("an HTML page"),
        gettext_noop("10-bit H.264 (High 10)"),
        gettext_noop("full-colour (4:4:4) H.264"),
        gettext_noop("4:2:2 H.264"),
        gettext_noop("rare-format H.264"),
        gettext_noop("10-bit or full-colour VP8"),
        gettext_noop("10-bit or full-colour VP9"),
        gettext_noop("10-bit or full-colour AV1"),
        gettext_noop("unknown-format"),
        gettext_noop("G.711 A-law sound"),
        gettext_noop("G.711 µ-law sound"),
        gettext_noop("G.726 sound"),
        gettext_noop("its format"),
    }
)

CATALOGUE = frozenset(value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str))
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
MAX_PARAM = 120  # characters in one parameter: a number, a codec or a phrase
MAX_DEPTH = 8  # a warning nests its parts, a list of stretches and each stretch


def reason(msgid: str, **params: str | Reason) -> Reason:
    """A stored reason; raises ``KeyError`` for a msgid that is not in the catalogue (a typo)."""
    if msgid not in CATALOGUE:
        raise KeyError(msgid)
    return {"msgid": msgid, "params": params}


def _pattern(msgid: str) -> re.Pattern[str]:
    pieces, last = [], 0
    for match in _PLACEHOLDER.finditer(msgid):
        pieces += [re.escape(msgid[last : match.start()]), f"(?P<{match.group(1)}>.+?)"]
        last = match.end()
    return re.compile("".join([*pieces, re.escape(msgid[last:])]))


# Sentences with placeholders last, so "the clip could not be decoded" is never read as a template's part.
_PATTERNS = [(msgid, _pattern(msgid)) for msgid in sorted(CATALOGUE, key=lambda m: ("%(" in m, m))]


def parse(text: str) -> Reason | None:
    """The catalogue's reason whose English is exactly ``text``, or None (then only the English is shown).

    This is how a sentence from the isolated process (whose output is not trusted) gets its msgid:
    only a catalogue sentence does, with short parameters.
    """
    if "%(" in text:
        return None
    for msgid, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match and all(len(value) <= MAX_PARAM for value in match.groupdict().values()):
            return {"msgid": msgid, "params": match.groupdict()}
    return None


def render(value: Any, translate: Callable[[str], str] = str, localize: Callable[[str], str] = str) -> str:
    """The sentence ``value`` (a stored ``Reason``) says; raises ``ValueError`` for a malformed one.

    ``translate`` turns a msgid or phrase into the reader's language, ``localize`` a number string.
    """
    return _render(value, translate, localize, 0)


def _render(value: Any, translate: Callable[[str], str], localize: Callable[[str], str], depth: int) -> str:
    if depth > MAX_DEPTH or not isinstance(value, Mapping):
        raise ValueError("malformed reason")
    msgid, params = value.get("msgid"), value.get("params") or {}
    if msgid not in CATALOGUE or not isinstance(params, Mapping):
        raise ValueError("unknown reason")
    names = set(_PLACEHOLDER.findall(msgid))
    if set(params) != names:
        raise ValueError("the reason's parameters do not match its sentence")
    filled = {name: _param(params[name], translate, localize, depth) for name in names}
    return translate(msgid) % filled


def _param(value: Any, translate: Callable[[str], str], localize: Callable[[str], str], depth: int) -> str:
    if isinstance(value, Mapping):
        return _render(value, translate, localize, depth + 1)
    if not isinstance(value, str) or len(value) > MAX_PARAM:
        raise ValueError("malformed parameter")
    if value in PHRASES:
        return translate(value)
    return localize(value)

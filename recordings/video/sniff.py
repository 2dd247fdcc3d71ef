"""What an uploaded file is, from its first bytes: pure Python, no decoder involved.

FFmpeg guesses a format by probing with every demuxer it has, which is both a
large attack surface and the source of unreadable errors ("box '£B\\x86\\x81' at 0
has an impossible size"). Here the first few kilobytes pick one of the
containers processing accepts (MP4/QuickTime, MPEG-TS, Matroska, WebM), and the
demuxer is then named explicitly. Anything else gets a reason that says what the
file looks like ("a JPEG image", "an HTML page", "audio only").
"""

from dataclasses import dataclass

from . import reasons

__all__ = ["HEAD_BYTES", "Found", "identify"]

HEAD_BYTES = 4096  # what ``identify`` needs to see

MP4, MPEGTS, MATROSKA, WEBM = "mp4", "mpegts", "matroska", "webm"
ACCEPTED = frozenset({MP4, MPEGTS, MATROSKA, WEBM})

_TS_PACKET = 188
_ISO_BOX_TYPES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"}
_IMAGE_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"}
_AUDIO_ONLY = reasons.AUDIO_ONLY


@dataclass(frozen=True, slots=True)
class Found:
    """``kind`` is one of the accepted containers, or "" with ``reason`` saying why the file is refused."""

    kind: str
    reason: str = ""


def _refused(reason: str) -> Found:
    return Found("", reason)


def _not_a_video(what: str) -> Found:
    return _refused(reasons.NOT_A_VIDEO % {"what": what})


def identify(head: bytes) -> Found:
    """Classify a file by its first ``HEAD_BYTES`` bytes (fewer for a short file)."""
    if not head:
        return _refused(reasons.EMPTY)
    if len(head) >= 8 and head[4:8] in _ISO_BOX_TYPES:
        if head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS:
            return _not_a_video("a HEIF or AVIF image")
        return Found(MP4)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Found(WEBM if _ebml_doctype(head) == b"webm" else MATROSKA)
    if _looks_like_ts(head):
        return Found(MPEGTS)
    raw = _raw_stream(head)
    if raw:
        return _refused(reasons.RAW_STREAM % {"codec": raw})
    return _other(head)


def _ebml_doctype(head: bytes) -> bytes:
    """The EBML header's DocType ("matroska", "webm"), b"" if not found in the head."""
    at = head.find(b"\x42\x82", 4, 64)
    if at < 0 or at + 3 > len(head):
        return b""
    size_byte = head[at + 2]
    if not size_byte & 0x80:  # a one-byte size is all a DocType ever needs
        return b""
    size = size_byte & 0x7F
    return head[at + 3 : at + 3 + size]


def _looks_like_ts(head: bytes) -> bool:
    """Sync bytes every 188 bytes (or every 192: M2TS has a 4-byte timestamp before each packet)."""
    for start, step in ((0, _TS_PACKET), (4, _TS_PACKET + 4)):
        positions = range(start, min(len(head), start + 4 * step), step)
        if len(positions) >= 2 and all(head[p] == 0x47 for p in positions):
            return True
    return len(head) == _TS_PACKET and head[0] == 0x47


def _raw_stream(head: bytes) -> str:
    """ "H.264" or "H.265" for an Annex B elementary stream (start code, then a parameter set), else ""."""
    if head.startswith(b"\x00\x00\x00\x01"):
        nal = head[4:6]
    elif head.startswith(b"\x00\x00\x01"):
        nal = head[3:5]
    else:
        return ""
    if len(nal) < 2 or nal[0] & 0x80:  # forbidden_zero_bit
        return ""
    if nal[0] & 0x1F in {6, 7, 9}:  # SEI, sequence parameter set, access unit delimiter
        return "H.264"
    if (nal[0] >> 1) & 0x3F in {32, 33, 34, 35, 39}:  # VPS, SPS, PPS, AUD, SEI
        return "H.265"
    return ""


def _other(head: bytes) -> Found:
    signatures: tuple[tuple[bytes, Found], ...] = (
        (b"\xff\xd8\xff", _not_a_video("a JPEG image")),
        (b"\x89PNG\r\n\x1a\n", _not_a_video("a PNG image")),
        (b"GIF87a", _not_a_video("a GIF image")),
        (b"GIF89a", _not_a_video("a GIF image")),
        (b"%PDF-", _not_a_video("a PDF document")),
        (b"PK\x03\x04", _not_a_video("a ZIP archive")),
        (b"ID3", _refused(_AUDIO_ONLY)),  # MP3 with a tag
        (b"fLaC", _refused(_AUDIO_ONLY)),
    )
    for signature, found in signatures:
        if head.startswith(signature):
            return found
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return _refused(_AUDIO_ONLY)
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return _refused(reasons.AVI)
    if head.startswith(b"OggS"):
        return _refused(_AUDIO_ONLY if b"theora" not in head[:512] else reasons.OGG)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return _refused(_AUDIO_ONLY)  # an MPEG audio frame (MP3) or ADTS (AAC) sync word
    text = _as_text(head)
    if text is not None:
        lowered = text.lstrip().lower()
        if lowered.startswith(("<!doctype html", "<html")) or any(
            tag in lowered[:1024] for tag in ("<html", "<head", "<body")
        ):
            return _not_a_video("an HTML page")
        return _not_a_video("a text file")
    return _refused(reasons.NOT_VIDEO_FILE)


def _as_text(head: bytes) -> str | None:
    """The head as text if it is printable UTF-8 (a cut multi-byte character at the end is allowed)."""
    try:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:
            return None
        text = head[: error.start].decode("utf-8")
    if not text.strip():
        return None
    return text if all(ch.isprintable() or ch in "\t\r\n" for ch in text) else None

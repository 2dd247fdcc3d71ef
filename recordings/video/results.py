"""The values the video functions take and return: plain frozen dataclasses of numbers, strings and bytes.

No OpenCV here, so the process that only *asks* for an analysis (``isolate.py``)
never loads a decoder. Everything converts to and from JSON, which is how the
isolated worker hands its result back: the parent never unpickles anything a
process that parsed a hostile file wrote.
"""

import base64
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from . import reasons

__all__ = ["Analysis", "ClipInfo", "Gap", "MotionEvent", "MotionSettings", "Prepared", "VideoError"]

# What an allocation failure looks like in a traceback or in OpenCV's and the loader's messages.
MEMORY_WORDS = (
    "MemoryError",
    "bad_alloc",
    "Insufficient memory",
    "Failed to allocate",
    "Cannot allocate memory",
    "failed to map segment",
)

# The reason when a decoder fails in a way our code did not foresee (its own message goes to the log).
UNDECODABLE = reasons.UNDECODABLE

# The largest picture a clip may have: checked from the container's header, before any decoding.
MAX_WIDTH = 4096
MAX_HEIGHT = 4096


class VideoError(Exception):
    """The clip cannot be used; ``str(error)`` is a reason a person can read.

    ``kind`` says why, for metrics and retry decisions: ``"invalid"`` (the file
    is not a usable video), ``"timeout"`` (wall-clock or CPU limit),
    ``"memory"`` (memory limit), ``"crash"`` (the decoder died) or ``"error"``
    (anything else). ``described`` is the reason as a msgid and its parameters
    (``reasons``), for pages to translate; None for a sentence not in the catalogue.
    """

    def __init__(self, reason: str, kind: str = "invalid", **params: str) -> None:
        super().__init__(reason % params if params else reason)
        self.kind = kind
        self.described = reasons.reason(reason, **params) if params else reasons.parse(reason)

    def __reduce__(self) -> tuple[type["VideoError"], tuple[str, str]]:
        return (type(self), (str(self), self.kind))

    @property
    def reason(self) -> str:
        return str(self)


@dataclass(frozen=True, slots=True)
class ClipInfo:
    """What the container says about the video stream (``frame_count`` may be an estimate for some formats)."""

    duration_s: float
    fps: float
    width: int
    height: int
    codec: str
    frame_count: int


@dataclass(frozen=True, slots=True)
class MotionEvent:
    """A span with motion, in seconds from the start of the clip, and its strength (0..1)."""

    start_s: float
    end_s: float
    score: float


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of the clip, in seconds from its start, whose pictures could not be decoded."""

    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Prepared:
    """What ``containers.prepare`` found and did, before any frame was decoded.

    - ``container``: what is stored, ``"mp4"`` or ``"webm"`` (WebM is kept as uploaded).
    - ``found``: the uploaded container, ``"mp4"``, ``"mpegts"``, ``"matroska"`` or ``"webm"``.
    - ``remuxed``: whether a new file was written (index moved first, or another container rewrapped).
    - ``codec``, ``profile``, ``pixel_format``: the video stream's, as FFmpeg names them.
    - ``not_playable_reason``: "" when a browser plays the clip, else why not (one readable sentence).
    - ``notes``: readable sentences about what remuxing left out (sound browsers cannot play, a cut-off end).
    - ``gaps``: damaged stretches the demuxer skipped while remuxing (the analysis finds the others).
    """

    container: str
    found: str
    remuxed: bool
    codec: str
    profile: str = ""
    pixel_format: str = ""
    not_playable_reason: str = ""
    notes: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, *, max_gaps: int = 100_000) -> "Prepared":
        if not isinstance(data, dict):
            raise ValueError("a preparation must be an object")
        notes = data["notes"]
        gaps = data["gaps"]
        if not isinstance(notes, list) or len(notes) > 10 or not isinstance(gaps, list) or len(gaps) > max_gaps:
            raise ValueError("malformed notes or gaps")
        return cls(
            container=_choice(data["container"], {"mp4", "webm"}),
            found=_choice(data["found"], {"mp4", "mpegts", "matroska", "webm"}),
            remuxed=_boolean(data["remuxed"]),
            codec=_text(data["codec"], 40),
            profile=_text(data["profile"], 60),
            pixel_format=_text(data["pixel_format"], 40),
            not_playable_reason=_text(data["not_playable_reason"], 300),
            notes=[_text(note, 300) for note in notes],
            gaps=[_gap(gap) for gap in gaps],
        )


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """Per-camera motion tuning.

    - ``sensitivity`` (0..1): higher detects fainter changes (a lower per-pixel
      brightness threshold, from 50 grey levels at 0 down to 8 at 1).
    - ``min_area_fraction``: the share of the (downscaled) picture that must
      change for a frame to count as motion (0.002 = 0.2 %).
    - ``analysis_fps``: how many frames per second are analysed; the others are
      demuxed and decoded (the decoder needs them as references) but never
      converted or looked at.
    - ``analysis_width``: frames are downscaled to this width (aspect kept) before comparing.
    - ``min_event_gap_s``: motion separated by less than this is one event.
    """

    sensitivity: float = 0.5
    min_area_fraction: float = 0.002
    analysis_fps: float = 5.0
    analysis_width: int = 320
    min_event_gap_s: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "sensitivity must be between 0 and 1": 0.0 <= self.sensitivity <= 1.0,
            "min_area_fraction must be between 0 and 1": 0.0 <= self.min_area_fraction <= 1.0,
            "analysis_fps must be between 0.1 and 60": 0.1 <= self.analysis_fps <= 60.0,
            "analysis_width must be between 32 and 1920": 32 <= self.analysis_width <= 1920,
            "min_event_gap_s must be between 0 and 3600": 0.0 <= self.min_event_gap_s <= 3600.0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ValueError("; ".join(failed))

    @property
    def pixel_threshold(self) -> int:
        """The brightness change (grey levels, after blurring) that counts a pixel as changed."""
        return round(50 - 42 * self.sensitivity)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> "MotionSettings":
        if not isinstance(data, dict):
            raise ValueError("settings must be an object")
        return cls(
            sensitivity=_number(data["sensitivity"]),
            min_area_fraction=_number(data["min_area_fraction"]),
            analysis_fps=_number(data["analysis_fps"]),
            analysis_width=_integer(data["analysis_width"]),
            min_event_gap_s=_number(data["min_event_gap_s"]),
        )


@dataclass(frozen=True, slots=True)
class Analysis:
    """The result of analysing a clip.

    ``clip_score`` is the strongest event's score (0 without events).
    ``poster_jpeg`` is a JPEG at most 640 pixels wide: the frame with the most
    motion, or the middle of the clip when nothing moved. ``frames_decoded``
    counts every frame the decoder produced, ``frames_analysed`` those compared.
    ``gaps`` are the stretches that could not be decoded (damage); ``info.duration_s``
    then runs to the last frame that did.
    """

    info: ClipInfo
    events: list[MotionEvent] = field(default_factory=list)
    clip_score: float = 0.0
    poster_jpeg: bytes = b""
    frames_decoded: int = 0
    frames_analysed: int = 0
    gaps: list[Gap] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["poster_jpeg"] = base64.b64encode(self.poster_jpeg).decode("ascii")
        return data

    @classmethod
    def from_json(cls, data: Any, *, max_poster_bytes: int = 4 * 1024 * 1024, max_events: int = 100_000) -> "Analysis":
        """Rebuild (and validate: types, ranges, sizes) an ``Analysis`` from ``to_json``'s output."""
        if not isinstance(data, dict):
            raise ValueError("an analysis must be an object")
        info = data["info"]
        events = data["events"]
        poster = data["poster_jpeg"]
        if not isinstance(info, dict) or not isinstance(events, list) or not isinstance(poster, str):
            raise ValueError("malformed analysis")
        gaps = data["gaps"]
        if not isinstance(gaps, list) or len(gaps) > max_events:
            raise ValueError("malformed gaps")
        if len(events) > max_events or len(poster) > max_poster_bytes * 4 // 3 + 4:
            raise ValueError("the analysis is larger than allowed")
        codec = info["codec"]
        if not isinstance(codec, str) or len(codec) > 64:
            raise ValueError("malformed codec name")
        parsed_events = []
        for event in events:
            if not isinstance(event, dict):
                raise ValueError("malformed event")
            parsed_events.append(
                MotionEvent(
                    start_s=_number(event["start_s"]), end_s=_number(event["end_s"]), score=_unit(event["score"])
                )
            )
        return cls(
            info=ClipInfo(
                duration_s=_number(info["duration_s"]),
                fps=_number(info["fps"]),
                width=_integer(info["width"]),
                height=_integer(info["height"]),
                codec=codec,
                frame_count=_integer(info["frame_count"]),
            ),
            events=parsed_events,
            clip_score=_unit(data["clip_score"]),
            poster_jpeg=base64.b64decode(poster, validate=True),
            frames_decoded=_integer(data["frames_decoded"]),
            frames_analysed=_integer(data["frames_analysed"]),
            gaps=[_gap(gap) for gap in gaps],
        )


def _gap(data: Any) -> Gap:
    if not isinstance(data, dict):
        raise ValueError("malformed gap")
    return Gap(start_s=_number(data["start_s"]), end_s=_number(data["end_s"]))


def clip_info_from_json(data: Any) -> ClipInfo:
    """Rebuild a ``ClipInfo`` from ``asdict`` output (validated)."""
    if not isinstance(data, dict) or not isinstance(data.get("codec"), str) or len(data["codec"]) > 64:
        raise ValueError("malformed clip info")
    return ClipInfo(
        duration_s=_number(data["duration_s"]),
        fps=_number(data["fps"]),
        width=_integer(data["width"]),
        height=_integer(data["height"]),
        codec=data["codec"],
        frame_count=_integer(data["frame_count"]),
    )


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(value)


def _unit(value: Any) -> float:
    number = _number(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"expected a number between 0 and 1, got {value!r}")
    return number


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"expected a string of at most {limit} characters")
    return value


def _choice(value: Any, choices: set[str]) -> str:
    if value not in choices:
        raise ValueError(f"unexpected value {value!r}")
    return str(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected a boolean, got {value!r}")
    return value

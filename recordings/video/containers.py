"""Accept what cameras write: MP4 as it is, MPEG-TS and Matroska remuxed to MP4, WebM kept; the rest refused.

``prepare(src, dst)`` runs first on every upload, inside the isolated worker
(``isolate.prepare_isolated``). It names the container from the file's first
bytes (``sniff``), then opens it with that demuxer only, and:

- MP4 with its index first: kept as it is; with the index at the end, or cut
  off after its index: rewritten index first with the packets that are there;
- MPEG-TS and Matroska: remuxed to MP4 (packets copied, nothing re-encoded), so
  the store, the player and downloads deal with one container; timestamps start
  at 0; sound browsers cannot play (G.711, PCM) is left out, and a note says so;
  stretches the demuxer had to skip (damage) are reported as gaps;
- WebM with VP8, VP9 or AV1: kept as it is (browsers play it natively; VP8 has
  no MP4 form); WebM with other codecs is treated as Matroska;
- anything else: ``VideoError`` with a reason naming what the file is.

It also says whether a browser can play the video (``not_playable_reason``): H.264
in 8-bit 4:2:0 and 8-bit 4:2:0 VP8/VP9/AV1 play in Chromium and Firefox; H.265,
High 10, 4:2:2 and 4:4:4 H.264 and MPEG-4 Part 2 do not, so such clips are kept
as they are and marked "download to play".
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from . import reasons
from .faststart import mp4_layout
from .results import MAX_HEIGHT, MAX_WIDTH, Gap, Prepared, VideoError
from .sniff import HEAD_BYTES, MATROSKA, MP4, MPEGTS, WEBM, identify

__all__ = ["not_playable_reason", "prepare"]

_DEMUXERS = {MP4: "mov", MPEGTS: "mpegts", MATROSKA: "matroska", WEBM: "matroska"}
_NAMES = {MP4: "an MP4 file", MPEGTS: "an MPEG-TS file", MATROSKA: "a Matroska file", WEBM: "a WebM file"}
_WEBM_VIDEO = {"vp8", "vp9", "av1"}
_EIGHT_BIT_420 = {"yuv420p", "yuvj420p"}
# Sound a browser plays from an MP4; other sound is left out when remuxing (it could stop playback).
_BROWSER_AUDIO = {"aac", "mp3", "opus", "flac"}
_AUDIO_NAMES = {"pcm_alaw": "G.711 A-law sound", "pcm_mulaw": "G.711 µ-law sound", "adpcm_g726": "G.726 sound"}
_CODEC_NAMES = {"hevc": "H.265 (HEVC)", "mpeg4": "MPEG-4 Part 2", "mjpeg": "Motion JPEG", "mpeg2video": "MPEG-2"}
# Reported when the file's end is missing by more than this (a last frame's length is not "missing").
_MISSING_END_S = 0.5
# A jump after a corrupt or dropped video packet longer than this many packet durations is a gap.
_GAP_FRAMES = 1.5
# How many video packets after a corrupt one a jump is still blamed on it (the demuxer may hand
# over the spliced packet, unflagged, before the one after the skipped stretch).
_DAMAGE_REACH = 3


def prepare(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Prepared:
    """Check ``src`` and, if it must be rewritten, write the MP4 to ``dst``; see the module's docstring.

    Raises ``VideoError`` with a readable reason for a file that is refused.
    """
    src_path, dst_path = Path(src), Path(dst)
    if src_path.resolve() == dst_path.resolve():
        raise ValueError("prepare needs a destination other than its source")
    with src_path.open("rb") as file:
        found = identify(file.read(HEAD_BYTES))
    if not found.kind:
        raise VideoError(found.reason)
    remux = found.kind in {MPEGTS, MATROSKA}
    cut_off = False
    if found.kind == MP4:
        layout = mp4_layout(src_path)
        cut_off = layout.cut_off
        if "moov" not in layout.kinds:
            raise VideoError(reasons.MP4_NO_INDEX_CUT)
        remux = cut_off or ("mdat" in layout.kinds and layout.kinds.index("mdat") < layout.kinds.index("moov"))
    try:
        with av.open(
            os.fspath(src_path), mode="r", format=_DEMUXERS[found.kind], options={"protocol_whitelist": "file"}
        ) as source:
            video = _video_stream(source)
            context = video.codec_context
            codec = context.name
            profile = context.profile or ""
            pixel_format = context.format.name if context.format is not None else ""
            if found.kind == WEBM and codec not in _WEBM_VIDEO:
                remux = True  # Matroska under another name
            notes: list[str] = []
            gaps: list[Gap] = []
            if remux:
                notes, gaps = _remux(source, video, dst_path, what=_NAMES[found.kind], cut_off=cut_off)
    except av.FFmpegError as error:
        raise VideoError(reasons.UNREADABLE_CONTAINER, container=_NAMES[found.kind]) from error
    return Prepared(
        container="webm" if found.kind == WEBM and not remux else "mp4",
        found=found.kind,
        remuxed=remux,
        codec=codec,
        profile=profile,
        pixel_format=pixel_format,
        not_playable_reason=not_playable_reason(codec, profile, pixel_format),
        notes=notes,
        gaps=gaps,
    )


def _video_stream(source: InputContainer) -> VideoStream:
    videos = [stream for stream in source.streams if isinstance(stream, VideoStream)]
    if not videos:
        if any(isinstance(stream, AudioStream) for stream in source.streams):
            raise VideoError(reasons.AUDIO_ONLY)
        raise VideoError(reasons.NO_VIDEO)
    video = videos[0]
    # FFmpeg reports a size it refuses to believe as 0x0.
    if not (0 < video.width <= MAX_WIDTH and 0 < video.height <= MAX_HEIGHT):
        raise VideoError(reasons.SIZE_OVER, limit=f"{MAX_WIDTH}x{MAX_HEIGHT}")
    return video


def not_playable_reason(codec: str, profile: str, pixel_format: str) -> str:
    """ "" if Chromium and Firefox play this video in MP4 or WebM, else one readable sentence saying why not."""
    eight_bit_420 = pixel_format in _EIGHT_BIT_420 or (not pixel_format and "10" not in profile)
    if (
        codec in {"h264", *_WEBM_VIDEO}
        and eight_bit_420
        and not any(mark in profile for mark in ("4:2:2", "4:4:4", "10"))
    ):
        return ""
    if codec == "h264":
        if "10" in pixel_format or "10" in profile:
            what = "10-bit H.264 (High 10)"
        elif "444" in pixel_format or "4:4:4" in profile:
            what = "full-colour (4:4:4) H.264"
        elif "422" in pixel_format or "4:2:2" in profile:
            what = "4:2:2 H.264"
        else:
            what = "rare-format H.264"
    elif codec in _WEBM_VIDEO:
        what = f"10-bit or full-colour {codec.upper()}"
    else:
        what = _CODEC_NAMES.get(codec, codec.upper() or "unknown-format")
    return reasons.NOT_PLAYABLE % {"format": what}


def _remux(
    source: InputContainer, video: VideoStream, dst: Path, *, what: str, cut_off: bool
) -> tuple[list[str], list[Gap]]:
    """Copy the video and the sound browsers play into an MP4 at ``dst`` (index first).

    Returns readable notes (sound left out, an end cut off) and the stretches the demuxer skipped.
    """
    notes: list[str] = []
    partial = dst.with_name(dst.name + ".partial")
    try:
        with av.open(os.fspath(partial), mode="w", format="mp4", options={"movflags": "+faststart"}) as target:
            try:
                mapping: dict[int, av.stream.Stream] = {video.index: target.add_stream_from_template(video)}
            except ValueError as error:
                raise VideoError(reasons.NOT_STORABLE, container=what, codec=video.codec_context.name) from error
            for audio in source.streams.audio:
                name = audio.codec_context.name if audio.codec_context is not None else ""
                if name in _BROWSER_AUDIO:
                    mapping[audio.index] = target.add_stream_from_template(audio)
                elif not notes:
                    what = _AUDIO_NAMES.get(name, "its format")
                    notes.append(reasons.SOUND_LEFT_OUT % {"sound": what})
            copied = _copy_packets(source, target, mapping, video.index)
            end_s, gaps = copied.end_s, copied.gaps
        os.replace(partial, dst)
    finally:
        partial.unlink(missing_ok=True)
    claimed_s = source.duration / 1_000_000 if source.duration else 0.0
    if cut_off and claimed_s - end_s > _MISSING_END_S:
        missing = {"missing": f"{claimed_s - end_s:.1f}", "start": f"{end_s:.1f}", "end": f"{claimed_s:.1f}"}
        notes.append(reasons.CUT_OFF % missing)
    return notes, gaps


@dataclass(frozen=True, slots=True)
class _Copied:
    end_s: float  # where the video's last packet ends
    gaps: list[Gap]


def _copy_packets(
    source: InputContainer, target: OutputContainer, mapping: dict[int, av.stream.Stream], video_index: int
) -> _Copied:
    """Mux every readable packet of the mapped streams, timestamps shifted to start at 0.

    Packets a damaged stretch left without a timestamp, or out of order, are
    dropped (the muxer refuses them); a read error ends the copy, keeping what
    came before. A jump in the video's timestamps after a packet the demuxer
    flagged corrupt (or dropped) is a gap: the demuxer skipped a damaged stretch.
    """
    start_s = source.start_time / 1_000_000 if source.start_time else 0.0
    last_dts: dict[int, int] = {}
    video_end_s = 0.0
    previous_end_s: float | None = None
    muxed_video = 0
    since_damage = _DAMAGE_REACH  # video packets since the last corrupt or dropped one
    gaps: list[Gap] = []
    for packet in _readable(source, [s for s in source.streams if s.index in mapping]):
        index = packet.stream.index
        if packet.dts is None or packet.pts is None or packet.time_base is None:
            since_damage = 0 if index == video_index else since_damage
            continue
        shift = round(start_s / packet.time_base)
        dts, pts = packet.dts - shift, packet.pts - shift
        if index in last_dts and dts <= last_dts[index]:
            since_damage = 0 if index == video_index else since_damage
            continue
        last_dts[index] = dts
        packet.dts, packet.pts = dts, pts
        if index == video_index:
            muxed_video += 1
            since_damage = 0 if packet.is_corrupt else since_damage + 1
            start = float(dts * packet.time_base)
            length = float((packet.duration or 0) * packet.time_base)
            jump = start - previous_end_s if previous_end_s is not None else 0.0
            if since_damage <= _DAMAGE_REACH and jump > _GAP_FRAMES * max(length, 1e-3):
                gaps.append(Gap(start - jump, start))
            previous_end_s = start + length
            video_end_s = max(video_end_s, float(pts * packet.time_base) + length)
        packet.stream = mapping[index]
        target.mux(packet)
    if muxed_video == 0:
        raise VideoError(reasons.NO_PICTURE_READ)
    return _Copied(end_s=video_end_s, gaps=gaps)


def _readable(source: InputContainer, streams: list[av.stream.Stream]) -> Iterator[Packet]:
    packets = source.demux(streams)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError:
            return  # the rest of the file cannot be read (cut off): keep what came before
        yield packet

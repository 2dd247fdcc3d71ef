"""A camera's stream copied into MP4 files of about a set length, without re-encoding.

Runs where the stream is read (the reader's child process): packets go into the file
as the camera sent them. Each file starts at a keyframe, so it plays on its own; a file
is closed at the first keyframe after ``seconds``, and that keyframe opens the next, so
consecutive files leave no gap: the next file's first picture directly follows the
previous file's last (``Segment.start`` and ``Segment.end`` are on one stream clock).
A stream that ends or drops closes its file cleanly (``close``); packets before the
first keyframe cannot be shown and are not written.

The reader's child imports this file on its own (``segments``, no Django): it needs
nothing but PyAV.
"""

import fractions
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.container
import av.video.stream

__all__ = ["MotionGate", "Segment", "SegmentWriter"]


@dataclass(frozen=True)
class Segment:
    """A closed file: where it is, and the stretch of the stream it holds (seconds on the
    stream's clock: ``end`` is the last picture's time plus its duration)."""

    path: Path
    start: float
    end: float
    pictures: int
    keyframes: int

    @property
    def duration(self) -> float:
        return self.end - self.start


class SegmentWriter:
    """Stream copy of one video stream into files of about ``seconds``, each from a keyframe.

    ``template`` is the input's video stream (its codec parameters are copied);
    ``add`` takes its packets in the order the demuxer gives them; ``on_closed``
    hears of each closed file. Files are named ``segment-<n>.mp4`` in ``folder``.
    """

    def __init__(
        self,
        template: av.video.stream.VideoStream,
        folder: Path,
        *,
        seconds: float,
        on_closed: Callable[[Segment], None],
    ) -> None:
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        self._template = template
        self._time_base: fractions.Fraction = template.time_base or fractions.Fraction(1, 90000)
        self._folder = folder
        self._limit = seconds
        self._on_closed = on_closed
        self._count = 0
        self._output: av.container.OutputContainer | None = None
        self._stream: Any = None
        self._path: Path | None = None
        self._origin = 0  # the first keyframe's pts in this file: written as 0
        self._first_pts = 0
        self._last_end = 0  # the latest pts + duration written, on the input's clock
        self._pictures = 0
        self._keyframes = 0
        self._frame_ticks = 0  # a picture's duration when the camera leaves it out

    @property
    def time_base(self) -> fractions.Fraction:
        return self._time_base

    def add(self, packet: av.Packet) -> None:
        if packet.size == 0 or packet.pts is None:
            return  # the demuxer's flush packet, or one no file could place in time
        if packet.is_keyframe and (self._output is None or self._elapsed(packet.pts) >= self._limit):
            if self._output is not None:
                self._last_end = packet.pts  # its last picture lasts until this one: exactly
            self._finish()
            self._open(packet.pts)
        if self._output is None:
            return  # before the first keyframe: nothing to show
        duration = packet.duration or self._frame_ticks
        if packet.pts > self._first_pts and not self._frame_ticks:
            self._frame_ticks = packet.pts - self._first_pts
            duration = duration or self._frame_ticks
        dts = packet.dts if packet.dts is not None else packet.pts
        # A copy: the caller's packet may still be decoded (live view, motion) or sent on.
        copy = av.Packet(bytes(packet))
        copy.pts, copy.dts, copy.duration = packet.pts - self._origin, dts - self._origin, duration
        copy.is_keyframe = packet.is_keyframe
        copy.time_base = self._time_base
        copy.stream = self._stream
        self._output.mux(copy)
        self._pictures += 1
        self._keyframes += int(packet.is_keyframe)
        self._last_end = max(self._last_end, packet.pts + duration)

    def close(self) -> None:
        """Close the file in progress (the stream ended, dropped or is stopped)."""
        self._finish()

    def _elapsed(self, pts: int) -> float:
        return float((pts - self._first_pts) * self._time_base)

    def _open(self, pts: int) -> None:
        self._count += 1
        self._path = self._folder / f"segment-{self._count:06d}.mp4"
        self._output = av.open(str(self._path), "w", format="mp4")
        self._stream = self._output.add_stream_from_template(self._template)
        self._stream.time_base = self._time_base
        self._origin = self._first_pts = pts
        self._last_end = pts
        self._pictures = self._keyframes = 0

    def _finish(self) -> None:
        if self._output is None or self._path is None:
            return
        self._output.close()
        segment = Segment(
            path=self._path,
            start=float(self._first_pts * self._time_base),
            end=float(self._last_end * self._time_base),
            pictures=self._pictures,
            keyframes=self._keyframes,
        )
        self._output = self._stream = self._path = None
        self._on_closed(segment)


class MotionGate:
    """Recording on motion: packets reach ``writer`` from ``pre_roll`` seconds before the
    first motion until ``post_roll`` seconds after the last.

    While nothing moves, packets wait in a buffer that always starts at a keyframe and
    covers at least ``pre_roll`` seconds; ``motion(at)`` (a stream time, from whoever
    decodes) sends the buffer on and opens the gate; the first packet ``post_roll``
    seconds after the last motion closes the file and the gate.
    """

    def __init__(self, writer: SegmentWriter, *, pre_roll: float, post_roll: float):
        self._writer = writer
        self._time_base = writer.time_base
        self._pre_roll = pre_roll
        self._post_roll = post_roll
        self._buffer: list[av.Packet] = []
        self._open = False
        self._last_motion = 0.0

    @property
    def recording(self) -> bool:
        return self._open

    def add(self, packet: av.Packet) -> None:
        if packet.size == 0 or packet.pts is None:
            return
        at = float(packet.pts * self._time_base)
        if self._open and at > self._last_motion + self._post_roll:
            self._writer.close()
            self._open = False
        if self._open:
            self._writer.add(packet)
            return
        if packet.is_keyframe or self._buffer:
            self._buffer.append(packet)
            self._trim(at)

    def motion(self, at: float) -> None:
        self._last_motion = max(self._last_motion, at)
        if not self._open:
            self._open = True
            for packet in self._buffer:
                self._writer.add(packet)
            self._buffer.clear()

    def close(self) -> None:
        self._writer.close()
        self._open = False
        self._buffer.clear()

    def _trim(self, now: float) -> None:
        # Drop whole picture groups while the next keyframe still starts pre_roll or more ago.
        starts = [i for i, packet in enumerate(self._buffer) if packet.is_keyframe]
        keep_from = 0
        for index in starts[1:]:
            pts = self._buffer[index].pts
            if pts is not None and now - float(pts * self._time_base) >= self._pre_roll:
                keep_from = index
        if keep_from:
            del self._buffer[:keep_from]

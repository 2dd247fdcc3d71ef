"""The stream reader's child process, and the protocol it speaks with its parent.

The parent (``devices.ingest.reader``) runs this file as a script with
``python -I``, a near-empty environment and no arguments: it imports nothing but
the standard library and PyAV (no Django, no settings, no keys). Everything it
needs, the camera's address with its password included, arrives as the first
line on stdin. It then limits itself (address space, no core dumps) BEFORE it
reads anything from the network, so the camera's bytes are parsed under those
limits.

**Parent to child (stdin)**: JSON lines. The first is the job (``Job`` below);
the next ones are commands, ``{"decode": true|false}`` and ``{"packets": true|false}``.
EOF on stdin means the parent is gone: the child exits.

**Child to parent (stdout)**: messages ``>IB`` (payload length, kind) + payload:

- ``S`` stream: ``>I`` JSON length, JSON (codec, width, height, time_base, rate),
  then the codec's extradata (SPS/PPS). Sent once, before any packet.
- ``P`` packet: ``>qqqB`` pts, dts, duration (``NO_TS`` when unknown), flags
  (``KEY``), then the encoded bytes as the camera sent them, only while ``packets``
  is on (the parent relays the stream to live viewers); off, only the first packet's
  header, then ``C``. Turned on, the child first sends the packets it kept since the
  last keyframe, so live video starts at once.
  The first packet is a keyframe with a timestamp; earlier ones are dropped.
- ``C`` count: ``>I`` packets read since the last count, every ``COUNT_EVERY_S``
  (without ``packets``): all the worker needs to see the stream flow (its rate).
- ``J`` JPEG: ``>qHH`` pts, width, height, then a JPEG at most ``MAX_WIDTH`` wide.
  Only while decoding is on, at most ``max_fps`` a second.
- ``G`` segment: JSON ``{"name", "start", "end", "pictures", "wall_start"}``: a file
  the child closed in the job's ``record`` folder (recording only, see below).
- ``E`` end: JSON ``{"outcome": ..., "detail": ...}``: the last message. ``detail``
  is an exception class name, never its text (which may hold the address).

**Recording**: with a ``record`` job, the child also copies the stream into MP4 files
in the folder the parent made for it (``segments``: no re-encoding, each file from a
keyframe, consecutive files without a gap), continuously or on motion with pre- and
post-roll; on motion it decodes to look for change itself, so the parent never parses
a camera's bytes. A file in progress is closed cleanly when the stream ends or drops
and when the parent closes stdin (then the child exits, within ``STOP_GRACE_S``).
"""

import contextlib
import ctypes
import fractions
import http.client
import importlib
import json
import os
import resource
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypedDict
from urllib.parse import unquote, urlsplit, urlunsplit

HEADER = struct.Struct(">IB")
PACKET = struct.Struct(">qqqB")
JPEG = struct.Struct(">qHH")
JSON_LENGTH = struct.Struct(">I")
NO_TS = -(2**63)
KEY = 1
MAX_MESSAGE = 32 * 1024 * 1024  # the parent refuses longer messages

STREAM, PACKET_KIND, JPEG_KIND, SEGMENT, COUNT, END = b"S", b"P", b"J", b"G", b"C", b"E"
COUNT_FORMAT = struct.Struct(">I")
COUNT_EVERY_S = 0.5
# The packets since the last keyframe, kept for a live view that starts; a camera whose
# keyframes are further apart than this waits for its next one instead.
GOP_MAX_BYTES = 8 * 1024 * 1024
GOP_MAX_PACKETS = 600
STOP_GRACE_S = 1.5  # after stdin's EOF: time to close the file in progress, then exit

# Outcomes (the camera's status says which one, never more).
ENDED = "ended"
UNREACHABLE = "unreachable"
CREDENTIALS = "credentials"
UNSUPPORTED = "unsupported"
NOT_ALLOWED = "not_allowed"
FAILED = "failed"

MAX_WIDTH = 1280
JPEG_QSCALE = 4  # FFmpeg's MJPEG quantiser: 2 is the finest, 31 the coarsest
# Decoders the child may run on a camera's bytes: each one is attack surface.
CODECS = ("h264", "hevc", "mjpeg")
RTSP_PROTOCOLS = "rtsp,rtsps,tcp,tls"  # no udp, http, file, ... (nested protocols included)
HTTP_FORMATS = "mpjpeg,mjpeg,h264,hevc,mpegts,matroska,flv"
PR_SET_PDEATHSIG = 1


class RecordJob(TypedDict):
    folder: str  # the parent's private folder for this connection's files
    seconds: float  # about this long each (cut at the first keyframe past it)
    mode: str  # "continuous" or "motion"
    pre_roll: float
    post_roll: float
    sensitivity: float  # 0..1: higher finds fainter changes
    min_area_percent: float  # of the picture that must change


class Job(TypedDict):
    connect_url: str  # the camera's address, host replaced by the checked IP, credentials included
    host: str  # the name as written (Host header and TLS name for http/https)
    ip: str
    port: int
    max_fps: float
    open_timeout: float
    read_timeout: float
    memory_mb: int
    decode: bool
    record: RecordJob | None
    packets: bool  # send the packets' bytes at first (else headers only: recording happens here)


def encode_message(kind: bytes, payload: bytes) -> bytes:
    return HEADER.pack(len(payload), kind[0]) + payload


def ts(value: int | None) -> int:
    return NO_TS if value is None else value


class _Output:
    """Messages to the parent. Locked: the redirect tripwire writes from FFmpeg's log callback."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, kind: bytes, payload: bytes) -> None:
        with self.lock:
            self.stream.write(encode_message(kind, payload))
            self.stream.flush()

    def end(self, outcome: str, detail: str = "") -> None:
        self.send(END, json.dumps({"outcome": outcome, "detail": detail}).encode())


class _Failure(Exception):
    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.detail = detail


def limit_self(memory_mb: int) -> None:
    """Before any byte from the camera: bounded memory, no core dump (it would hold the
    password), and death with the parent."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError, AttributeError):  # not Linux: stdin's EOF still ends the child
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# --- Opening the stream ------------------------------------------------------------------


def _classify(error: BaseException) -> _Failure:
    import av

    name = type(error).__name__
    if isinstance(error, MemoryError | av.error.MemoryError):
        return _Failure(FAILED, name)  # the address-space limit
    if isinstance(error, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return _Failure(CREDENTIALS, name)
    if isinstance(error, av.error.ProtocolNotFoundError):
        return _Failure(NOT_ALLOWED, name)  # a protocol outside the whitelist
    if isinstance(
        error,
        av.error.HTTPClientError | av.error.HTTPServerError | av.error.InvalidDataError | av.error.DecoderNotFoundError,
    ):
        return _Failure(UNSUPPORTED, name)  # the camera answered, but not with a stream we read
    if isinstance(error, OSError | av.error.ExitError):
        return _Failure(UNREACHABLE, name)  # refused, timed out (ExitError: PyAV's timeout), reset
    return _Failure(UNSUPPORTED, name)


def _open_rtsp(job: Job) -> Any:
    import av

    options = {
        "rtsp_transport": "tcp",  # interleaved on the one connection: no UDP ports, no multicast
        "protocol_whitelist": RTSP_PROTOCOLS,
        "codec_whitelist": ",".join(CODECS),
        "allowed_media_types": "video",
    }
    try:
        return av.open(job["connect_url"], options=options, timeout=(job["open_timeout"], job["read_timeout"]))
    except Exception as error:
        raise _classify(error) from None


def _http_connection_classes(job: Job) -> tuple[type[http.client.HTTPConnection], type[http.client.HTTPSConnection]]:
    """Connections that go only to the checked address, whatever host a request names."""
    ip, port, host = job["ip"], job["port"], job["host"]

    def pinned(connection: http.client.HTTPConnection) -> socket.socket:
        if connection.host.lower() != host.lower() or connection.port != port:
            raise _Failure(NOT_ALLOWED, "other host")
        return socket.create_connection((ip, port), connection.timeout)

    class PinnedHTTP(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = pinned(self)

    class PinnedHTTPS(http.client.HTTPSConnection):
        def connect(self) -> None:
            # Cameras' certificates are self-signed: encrypted, not authenticated (README).
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self.sock = context.wrap_socket(pinned(self), server_hostname=host)

    return PinnedHTTP, PinnedHTTPS


class _Available:
    """The response as FFmpeg reads it: what has arrived, without waiting to fill its buffer
    (a live stream's frames would otherwise arrive in bursts)."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.response = response

    def read(self, size: int = -1) -> bytes:
        return self.response.read1(size if size > 0 else 65536)


def _open_http(job: Job) -> Any:
    """HTTP in Python, not FFmpeg's: it connects to the checked address only, sends the
    camera's name in Host and TLS, and follows no redirect (FFmpeg's http would)."""
    import av

    parts = urlsplit(job["connect_url"])
    scheme = parts.scheme
    port_part = "" if job["port"] == {"http": 80, "https": 443}[scheme] else f":{job['port']}"
    bracketed = f"[{job['host']}]" if ":" in job["host"] else job["host"]
    url = urlunsplit((scheme, f"{bracketed}{port_part}", parts.path or "/", parts.query, ""))
    plain, tls = _http_connection_classes(job)

    class Handler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(plain, req)

        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(tls, req)

    opener = urllib.request.OpenerDirector()
    for handler in (Handler(), urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    if parts.username is not None:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        user, password = unquote(parts.username), unquote(parts.password or "")
        passwords.add_password(None, url, user, password)
        opener.add_handler(urllib.request.HTTPBasicAuthHandler(passwords))
        opener.add_handler(urllib.request.HTTPDigestAuthHandler(passwords))
    try:
        # One timeout for connecting and for each read (http.client has no separate one).
        response = opener.open(url, timeout=max(job["open_timeout"], job["read_timeout"]))
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise _Failure(CREDENTIALS, f"HTTP {error.code}") from None
        if 300 <= error.code < 400:
            raise _Failure(NOT_ALLOWED, "redirect") from None  # never followed: its target was not checked
        raise _Failure(UNSUPPORTED, f"HTTP {error.code}") from None
    except urllib.error.URLError as error:
        raise _Failure(UNREACHABLE, type(error.reason).__name__) from None
    except OSError as error:
        raise _Failure(UNREACHABLE, type(error).__name__) from None
    content_type = response.headers.get("Content-Type", "").lower()
    kind = "mpjpeg" if content_type.startswith("multipart/") else None
    options = {"codec_whitelist": ",".join(CODECS), "format_whitelist": HTTP_FORMATS}
    try:
        return av.open(_Available(response), format=kind, options=options)
    except Exception as error:
        raise _classify(error) from None


# --- Reading --------------------------------------------------------------------------


class _Controls:
    """The parent's commands: whether to decode, whether to send packets. EOF: the parent
    stops the child (or is gone): the reading loop closes its file and ends; it is ended
    anyway after a grace."""

    def __init__(self, decode: bool, packets: bool = False) -> None:
        self.decode = decode
        self.packets = packets
        self.stopping = False

    def follow(self, stream: BinaryIO) -> None:
        for line in stream:
            try:
                command = json.loads(line)
            except ValueError:
                continue
            if isinstance(command, dict):
                if "decode" in command:
                    self.decode = bool(command["decode"])
                if "packets" in command:
                    self.packets = bool(command["packets"])
        self.stopping = True
        time.sleep(STOP_GRACE_S)
        os._exit(0)


class _Pictures:
    """Decoding on demand: for JPEG frames (at most ``max_fps`` a second, scaled to at most
    MAX_WIDTH) and for the motion check, from the next keyframe once started."""

    def __init__(self, stream: Any, max_fps: float) -> None:
        import av

        self.av = av
        self.stream = stream
        self.interval = 1.0 / max_fps
        self.due = 0.0
        self.decoder: Any = None
        self.encoder: Any = None
        self.intra_only = stream.codec_context.name == "mjpeg"

    def stop(self) -> None:
        self.decoder = None

    def decoded(self, packet: Any, *, every: bool) -> Iterator[Any]:
        """The packet's pictures (``every``: all of them, else only when a JPEG is due)."""
        if self.decoder is None:
            if not packet.is_keyframe:
                return  # a decoder starts at a keyframe
            self.decoder = self.av.CodecContext.create(self.stream.codec_context.name, "r")
            self.decoder.extradata = self.stream.codec_context.extradata
            self.decoder.thread_count = 1
        if self.intra_only and not every and time.monotonic() < self.due:
            return  # every JPEG frame stands alone: skip decoding it
        yield from self.decoder.decode(packet)

    def jpeg_due(self) -> bool:
        now = time.monotonic()
        if now < self.due:
            return False
        self.due = now + self.interval if self.due == 0 else max(self.due + self.interval, now + self.interval / 2)
        return True

    def encode(self, frame: Any) -> tuple[int, int, int, bytes]:
        width, height = frame.width, frame.height
        if width > MAX_WIDTH:
            width, height = MAX_WIDTH, max(2, round(height * MAX_WIDTH / width / 2) * 2)
        image = frame.reformat(width=width, height=height, format="yuvj420p", interpolation="AREA")
        if self.encoder is None or (self.encoder.width, self.encoder.height) != (width, height):
            self.encoder = self.av.CodecContext.create("mjpeg", "w")
            self.encoder.width, self.encoder.height, self.encoder.pix_fmt = width, height, "yuvj420p"
            self.encoder.time_base = fractions.Fraction(1, 1000)
            self.encoder.qmin = self.encoder.qmax = JPEG_QSCALE
            self.count = 0
        image.pts, image.time_base = self.count, self.encoder.time_base
        self.count += 1
        data = b"".join(bytes(packet) for packet in self.encoder.encode(image))
        return ts(frame.pts), width, height, data


class _Motion:
    """Change against a slowly updated background, on a small grey copy of the picture,
    at most ``LOOKS_PER_S`` pictures a second (stream time)."""

    LOOKS_PER_S = 5
    SIZE = (96, 54)

    def __init__(self, sensitivity: float, min_area_percent: float) -> None:
        self.threshold = 8 + (1 - min(max(sensitivity, 0.0), 1.0)) * 40  # grey levels
        self.min_share = min_area_percent / 100
        self.background: Any = None
        self.next_look = float("-inf")

    def moved(self, frame: Any, at: float) -> bool:
        if at < self.next_look:
            return False
        self.next_look = at + 1 / self.LOOKS_PER_S
        width, height = self.SIZE
        small = frame.reformat(width=width, height=height, format="gray").to_ndarray().astype("float32")
        if self.background is None:
            self.background = small
            return False
        changed = abs(small - self.background) > self.threshold
        self.background = self.background * 0.7 + small * 0.3  # a thing that stops is background within ~1 s
        return bool(changed.mean() >= self.min_share)


class _Recorder:
    """The stream copied into files (``segments``), continuously or on motion."""

    def __init__(self, stream: Any, job: RecordJob, out: _Output) -> None:
        # This folder holds ``segments`` (PyAV only); -I left it off the path.
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        segments = importlib.import_module("segments")
        self.out = out
        self.time_base = stream.time_base
        self.writer = segments.SegmentWriter(
            stream, Path(job["folder"]), seconds=job["seconds"], on_closed=self._closed
        )
        self.gate: Any = None
        self.motion: _Motion | None = None
        if job["mode"] == "motion":
            self.gate = segments.MotionGate(self.writer, pre_roll=job["pre_roll"], post_roll=job["post_roll"])
            self.motion = _Motion(job["sensitivity"], job["min_area_percent"])
        self.clock: tuple[float, float] | None = None  # wall and stream time of the first packet

    def add(self, packet: Any) -> None:
        if self.clock is None:
            self.clock = (time.time(), float(packet.pts * self.time_base))
        (self.gate or self.writer).add(packet)

    def look(self, frame: Any) -> None:
        if self.motion is None or frame.pts is None:
            return
        at = float(frame.pts * self.time_base)
        if self.motion.moved(frame, at):
            self.gate.motion(at)

    def close(self) -> None:
        (self.gate or self.writer).close()

    def _closed(self, segment: Any) -> None:
        wall, stream_at = self.clock or (time.time(), segment.start)
        info = {
            "name": segment.path.name,
            "start": segment.start,
            "end": segment.end,
            "pictures": segment.pictures,
            "wall_start": wall + (segment.start - stream_at),
        }
        self.out.send(SEGMENT, json.dumps(info).encode())


class _KeptPictures:
    """The packets since the last keyframe (bounded), for a live view that starts."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.size = 0

    def add(self, message: bytes, key: bool) -> None:
        if key:
            self.messages, self.size = [], 0
        elif not self.messages:
            return  # dropped for size: wait for the next keyframe
        self.messages.append(message)
        self.size += len(message)
        if self.size > GOP_MAX_BYTES or len(self.messages) > GOP_MAX_PACKETS:
            self.messages, self.size = [], 0

    def before_last(self) -> list[bytes]:
        """The kept packets but the newest (which the caller sends itself)."""
        return self.messages[:-1]


def _stream_message(stream: Any) -> bytes:
    context = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate
    info = {
        "codec": context.name,
        "width": context.width,
        "height": context.height,
        "time_base": [stream.time_base.numerator, stream.time_base.denominator],
        "rate": [rate.numerator, rate.denominator] if rate else None,
    }
    header = json.dumps(info).encode()
    return JSON_LENGTH.pack(len(header)) + header + bytes(context.extradata or b"")


def read(job: Job, out: _Output, controls: _Controls) -> None:
    container = _open_http(job) if job["connect_url"].startswith("http") else _open_rtsp(job)
    recorder: _Recorder | None = None
    try:
        videos = [s for s in container.streams.video if s.codec_context.name in CODECS]
        if not videos:
            raise _Failure(UNSUPPORTED, "no supported video stream")
        video = videos[0]
        out.send(STREAM, _stream_message(video))
        pictures = _Pictures(video, job["max_fps"])
        record = job.get("record")
        recorder = _Recorder(video, record, out) if record else None
        started = False
        # A message per packet (~30 KB, 15 a second), for a parent that only counts them, cost
        # the worker more CPU than the recording itself (bench/ingest): a count twice a second,
        # and the packets' bytes only while the parent relays them.
        sending = False
        kept = _KeptPictures()
        counted, unsent, next_count = False, 0, 0.0
        for packet in container.demux(video):
            if controls.stopping:
                break
            if packet.size == 0:
                continue
            if not started:
                if not packet.is_keyframe or packet.pts is None:
                    continue  # a recording starts at a keyframe with a timestamp
                started = True
            flags = KEY if packet.is_keyframe else 0
            head = PACKET.pack(ts(packet.pts), ts(packet.dts), packet.duration or 0, flags)
            message = head + bytes(packet)
            kept.add(message, packet.is_keyframe)
            if not controls.packets:
                sending = False
            elif not sending and kept.messages:  # else: wait for the next keyframe
                for earlier in kept.before_last():
                    out.send(PACKET_KIND, earlier)  # a live view starts at the last keyframe
                sending = True
            if sending or not counted:
                out.send(PACKET_KIND, message if sending else head)
                counted = True
            else:
                unsent += 1
                if (now := time.monotonic()) >= next_count:
                    out.send(COUNT, COUNT_FORMAT.pack(unsent))
                    unsent, next_count = 0, now + COUNT_EVERY_S
            if recorder is not None:
                recorder.add(packet)
            watching = recorder is not None and recorder.motion is not None
            if not (controls.decode or watching):
                pictures.stop()
                continue
            for frame in pictures.decoded(packet, every=watching):
                if recorder is not None:
                    recorder.look(frame)
                if controls.decode and pictures.jpeg_due():
                    pts, width, height, data = pictures.encode(frame)
                    out.send(JPEG_KIND, JPEG.pack(pts, width, height) + data)
    except _Failure:
        raise
    except Exception as error:
        raise _classify(error) from None
    finally:
        if recorder is not None:
            recorder.close()  # the file in progress, closed playable (the stream ended or dropped)
        container.close()


def _redirect_tripwire(out: _Output) -> None:
    """FFmpeg's RTSP client follows a redirect to any address, logging it first: end the
    child at that log line, before it connects anywhere unchecked."""
    import logging

    import av

    class Tripwire(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "Redirecting to" in record.getMessage():
                out.end(NOT_ALLOWED, "redirect")
                os._exit(3)

    logger = logging.getLogger("libav")
    logger.addHandler(Tripwire())
    logger.propagate = False  # FFmpeg's messages may hold the address: never printed
    logger.setLevel(logging.INFO)
    av.logging.set_level(av.logging.INFO)


def main() -> int:
    job: Job = json.loads(sys.stdin.buffer.readline())
    limit_self(job["memory_mb"])
    out = _Output(sys.stdout.buffer)
    controls = _Controls(job["decode"], bool(job.get("packets")))
    threading.Thread(target=controls.follow, args=(sys.stdin.buffer,), daemon=True).start()
    try:
        _redirect_tripwire(out)
        read(job, out, controls)
    except _Failure as failure:
        out.end(failure.outcome, failure.detail)
        return 0
    except MemoryError:
        out.end(FAILED, "MemoryError")
        return 1
    out.end(ENDED)
    return 0


if __name__ == "__main__":
    # os._exit: the thread reading stdin holds its lock, which a normal shutdown would wait for.
    code = main()
    sys.stdout.flush()
    os._exit(code)

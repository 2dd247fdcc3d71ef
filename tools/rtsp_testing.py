"""Starting ``tools/rtsp_server.py`` (GStreamer's RTSP server) from the tests and the demo.

The server needs Debian's GStreamer packages and their ``gi`` bindings, which live in
the system Python (``/usr/bin/python3``), not in the project's virtualenv: it runs
as a child process on 127.0.0.1. ``.ci/run`` and ``bin/install-rtsp-server`` install
the packages; ``missing()`` says what is missing, for a skip message or the demo.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

SYSTEM_PYTHON = os.environ.get("NVR_GST_PYTHON", "/usr/bin/python3")
SERVER = Path(__file__).with_name("rtsp_server.py")
PACKAGES = (
    "gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi "
    "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
)
_PROBE = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
    "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
    "missing = [e for e in ('multifilesrc', 'qtdemux', 'h264parse', 'rtph264pay') "
    "if Gst.ElementFactory.find(e) is None]; print(' '.join(missing))"
)


def missing() -> str | None:
    """Why the RTSP server cannot run here, or None when it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} is missing"
    try:
        probe = subprocess.run(  # noqa: S603 - a fixed command
            [SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{SYSTEM_PYTHON} did not run: {error}"
    if probe.returncode != 0:
        return f"GStreamer's RTSP server bindings are missing (apt-get install {PACKAGES})"
    if probe.stdout.strip():
        return f"GStreamer elements are missing: {probe.stdout.strip()} (apt-get install {PACKAGES})"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RtspServer:
    """``rtsp://127.0.0.1:<port><path>`` playing ``clip`` (an H.264 MP4; with ``codec="h265"``,
    an H.265 one) until it ends or is stopped.

    With ``user`` and ``password`` the server asks for them (Basic authentication).
    ``stop()`` then ``start()`` again serves on the same port: a camera that went away
    and came back.
    """

    def __init__(
        self,
        clip: Path,
        *,
        path: str = "/cam",
        user: str | None = None,
        password: str | None = None,
        codec: str = "h264",
    ) -> None:
        self.clip = clip
        self.codec = codec  # the clip's: "h264" or "h265"
        self.path = path
        self.user = user
        self.password = password
        self.port = free_port()
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> "RtspServer":
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def url(self, path: str | None = None, *, user: str | None = None, password: str | None = None) -> str:
        userinfo = f"{user}:{password}@" if user is not None else ""
        return f"rtsp://{userinfo}127.0.0.1:{self.port}{self.path if path is None else path}"

    def start(self, timeout: float = 20) -> None:
        command = [SYSTEM_PYTHON, str(SERVER), "--port", str(self.port), "--clip", str(self.clip), "--path", self.path]
        command += ["--codec", self.codec]
        if self.user is not None:
            command += ["--user", self.user, "--password-stdin"]
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        if self.user is not None:
            self.process.stdin.write(f"{self.password}\n")
        self.process.stdin.close()
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline()  # "ready <port>", or EOF when it failed
        if not line.startswith("ready") or time.monotonic() > deadline:
            error = self.process.stderr.read() if self.process.stderr else ""
            self.stop()
            raise RuntimeError(f"the RTSP server did not start: {line!r} {error[-2000:]}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""An RTSP camera for tests and the demo: GStreamer's RTSP server playing an H.264 MP4.

Runs under Debian's ``/usr/bin/python3`` (the ``gi`` bindings come from Debian's
packages, see README "The RTSP test server"), never under the project's
virtualenv, so it imports nothing from the project::

    /usr/bin/python3 tools/rtsp_server.py --port 8554 --clip clip.mp4 [--path /cam]
        [--user NAME --password-stdin]

It serves ``rtsp://127.0.0.1:<port><path>`` in real time, from the start of the clip
for the first client (later ones join the same pipeline), and prints ``ready <port>`` on stdout once
it listens. With ``--user`` it asks for HTTP Basic credentials (the password is read
from stdin, never from the command line). Every client shares one pipeline
(``set_shared``), as a camera with several viewers does. SIGTERM stops it.
"""

import argparse
import signal
import sys
from typing import Any

import gi  # type: ignore[import-not-found]

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]  # noqa: E402

ROLE = "camera-user"


def launch_line(clip: str, codec: str = "h264") -> str:
    # The file's H.264 (or H.265) as it is (no re-encoding): demux, parse, packetise. The
    # parameter sets with every keyframe (config-interval=1) so a client joining mid-stream
    # can start. The stream ends with the file (qtdemux does not loop): clips outlast what
    # tests read.
    location = clip.replace("\\", "\\\\").replace('"', '\\"')
    packetise = f"{codec}parse ! rtp{codec}pay name=pay0 pt=96 config-interval=1"
    return f'( filesrc location="{location}" ! qtdemux ! {packetise} )'


def build(port: int, path: str, clip: str, user: str | None, password: str | None, codec: str = "h264") -> Any:
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(clip, codec))
    factory.set_shared(True)
    if user is not None and password is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        for permission in (
            GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS,
            GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
        ):
            permissions.add_permission_for_role(ROLE, permission, True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(path, factory)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clip", required=True)
    parser.add_argument("--path", default="/cam")
    parser.add_argument("--user")
    parser.add_argument("--password-stdin", action="store_true")
    parser.add_argument("--codec", choices=("h264", "h265"), default="h264", help="the clip's video codec")
    args = parser.parse_args()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    Gst.init(None)
    server = build(args.port, args.path, args.clip, args.user, password, args.codec)
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"ready {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

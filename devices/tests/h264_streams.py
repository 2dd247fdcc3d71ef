"""H.264 and H.265 access units of known content for tests (libx264, libx265 through PyAV)."""

from fractions import Fraction

import av
import numpy as np

RED = (0, 0, 220)  # BGR


def encode(
    *,
    width: int = 160,
    height: int = 96,
    count: int = 12,
    keyint: int = 6,
    bframes: int = 0,
    profile: str = "baseline",
    colour: tuple[int, int, int] = RED,
    hevc: bool = False,
) -> tuple[list[tuple[bytes, int, int, bool]], bytes]:
    """(access unit, pts, dts, key) in 1/15 s ticks, and the encoder's extradata."""
    encoder = av.CodecContext.create("libx265" if hevc else "libx264", "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 15)
    encoder.framerate = Fraction(15)
    encoder.options = {
        "preset": "ultrafast" if profile == "baseline" else "veryfast",  # ultrafast has no High features
        "tune": "zerolatency" if not bframes else "film",
        "profile": profile,
        "bf": str(bframes),
        "g": str(keyint),
        "keyint_min": str(keyint),
        "sc_threshold": "0",
    }
    if hevc:
        params = f"keyint={keyint}:min-keyint={keyint}:bframes={bframes}:scenecut=0:log-level=error"
        encoder.options = {"preset": "ultrafast", "tune": "zerolatency", "x265-params": params}
    units = []

    def drain(packets: list[av.Packet]) -> None:
        for packet in packets:
            units.append((bytes(packet), int(packet.pts or 0), int(packet.dts or 0), packet.is_keyframe))

    for n in range(count):
        picture = np.zeros((height, width, 3), np.uint8)
        picture[:] = colour
        picture[:, (n * 4) % width :][:, :8] = 255  # something moves
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24").reformat(format="yuv420p")
        frame.pts = n
        drain(encoder.encode(frame))
    drain(encoder.encode(None))
    return units, bytes(encoder.extradata or b"")

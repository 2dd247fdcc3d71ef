"""The simulated camera's H.264: what the device protocol asks of each websocket message, checked by decoding.

One message is one access unit in Annex B; no B-frames (each access unit
decodes to one picture at once, in the order sent); SPS and PPS before every
IDR; a keyframe exactly every keyframe interval; about the target bitrate;
what push sends, and the command's options for it. The camera side only: a
small websocket server here stands in for the site.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from io import StringIO

import av
import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from websockets.asyncio.server import ServerConnection, serve

from nvr.testing import free_port
from tools.simulator.h264 import (
    MAX_BITRATE,
    NAL_IDR,
    NAL_PPS,
    NAL_SLICE,
    NAL_SPS,
    H264Encoder,
    default_bitrate,
    keyframe_interval,
    nal_unit_types,
    solid_colour_access_units,
)
from tools.simulator.stream import Scene, push, push_forever

START_CODES = (b"\x00\x00\x00\x01", b"\x00\x00\x01")


def decoder() -> av.VideoCodecContext:
    context = av.CodecContext.create("h264", "r")
    context.thread_type = "SLICE"  # frame threads would hold pictures back: slices show the stream's own delay
    return context


def decode_each(access_units: list[bytes]) -> list[list[av.VideoFrame]]:
    """The pictures each access unit gives as it is fed, alone, to the decoder."""
    context = decoder()
    out = []
    for n, unit in enumerate(access_units):
        packet = av.Packet(unit)
        packet.pts = n
        out.append(list(context.decode(packet)))
    return out


def scene_units(width: int, height: int, *, fps: float, count: int, **options: object) -> list[bytes]:
    scene = Scene(width, height)
    encoder = H264Encoder(width, height, fps=fps, **options)  # type: ignore[arg-type]
    return [encoder.encode(scene.render(n / fps)) for n in range(count)]


def keyframes(access_units: list[bytes]) -> list[int]:
    return [n for n, unit in enumerate(access_units) if NAL_IDR in nal_unit_types(unit)]


def test_each_access_unit_decodes_at_once_to_one_picture_of_the_size_in_the_order_sent():
    """No B-frames: nothing waits for a later picture, so display order is the order of the messages."""
    units = scene_units(160, 96, fps=10, count=25)
    assert all(unit.startswith(START_CODES) for unit in units)
    pictures = decode_each(units)
    assert [len(p) for p in pictures] == [1] * 25
    assert [p[0].pts for p in pictures] == list(range(25))
    assert {(p[0].width, p[0].height) for p in pictures} == {(160, 96)}
    assert [p[0].key_frame for p in pictures] == [n % 20 == 0 for n in range(25)]


def test_every_keyframe_carries_its_sps_and_pps_before_the_idr_slice():
    units = scene_units(96, 64, fps=10, count=45, keyframe_every=1.0)
    assert keyframes(units) == [0, 10, 20, 30, 40]
    for n, unit in enumerate(units):
        types = nal_unit_types(unit)
        if n % 10 == 0:
            assert NAL_SPS in types
            assert NAL_PPS in types
            assert types.index(NAL_SPS) < types.index(NAL_PPS) < types.index(NAL_IDR), types
            # A decoder that starts at this access unit, without anything before it, shows it.
            assert len(decode_each([unit])[0]) == 1
        else:
            assert NAL_SLICE in types
            assert not {NAL_SPS, NAL_PPS, NAL_IDR} & set(types), types


@pytest.mark.parametrize(
    ("fps", "every", "interval"),
    [(10, 2.0, 20), (15, 2.0, 30), (10, 0.5, 5), (7.5, 2.0, 15), (12.5, 2.0, 25), (3, 0.2, 1)],
)
def test_keyframes_come_exactly_every_interval(fps, every, interval):
    assert keyframe_interval(fps, every) == interval
    count = 3 * interval + 2
    units = scene_units(64, 48, fps=fps, count=count, keyframe_every=every)
    assert keyframes(units) == list(range(0, count, interval))


def test_a_camera_that_skips_slots_still_sends_a_keyframe_within_the_interval():
    """Slots count time: after skipped slots the keyframe comes on time, not after 20 more pictures."""
    scene = Scene(64, 48)
    encoder = H264Encoder(64, 48, fps=10, keyframe_every=2.0)
    slots = [0, 1, 2, 6, 7, 15, 19, 20, 21, 30, 38, 41, 42, 60, 61]
    units = {slot: encoder.encode(scene.render(slot / 10), index=slot) for slot in slots}
    assert [slot for slot, unit in units.items() if NAL_IDR in nal_unit_types(unit)] == [0, 20, 41, 61]
    assert all(len(p) == 1 for p in decode_each(list(units.values())))
    with pytest.raises(ValueError, match="must increase"):
        encoder.encode(scene.render(0), index=61)


def test_the_bitrate_of_the_moving_scene_at_720p_is_near_the_target():
    """10 s at 1280x720, 15 fps: within 35% of 2 Mbit/s; no message near the server's size cap."""
    assert default_bitrate(1280, 720) == 2_000_000
    units = scene_units(1280, 720, fps=15, count=150)
    rate = sum(len(unit) for unit in units) * 8 / 10
    assert 0.65 * 2_000_000 <= rate <= 1.35 * 2_000_000, rate
    assert max(len(unit) for unit in units) <= settings.LIVE_MAX_FRAME_BYTES // 2
    assert keyframes(units) == [0, 30, 60, 90, 120]


def test_even_noise_at_the_highest_bitrate_stays_far_below_the_servers_frame_size_cap():
    """The VBV buffer bounds each access unit; without it a keyframe of noise at 20 Mbit/s passes 1 MB."""
    rng = np.random.default_rng(1)
    encoder = H264Encoder(1280, 720, fps=15, bitrate=MAX_BITRATE, keyframe_every=0.2)
    sizes = [len(encoder.encode(rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8))) for _ in range(6)]
    assert max(sizes) <= settings.LIVE_MAX_FRAME_BYTES // 2, sizes


def test_an_explicit_bitrate_is_the_target():
    units = scene_units(320, 180, fps=10, count=40, bitrate=400_000)
    rate = sum(len(unit) for unit in units) * 8 / 4
    assert 0.65 * 400_000 <= rate <= 1.35 * 400_000, rate


def test_the_default_bitrate_scales_with_the_pixel_count():
    assert default_bitrate(640, 360) == 500_000
    assert default_bitrate(1920, 1080) == 4_500_000
    assert default_bitrate(16, 16) == 50_000  # the floor
    assert default_bitrate(4096, 4096) == 20_000_000  # the ceiling


@pytest.mark.parametrize("colour", [(30, 160, 220), (255, 255, 255), (0, 0, 0), (200, 40, 90)])
def test_the_solid_colour_stream_decodes_to_its_colour(colour):
    units = solid_colour_access_units(64, 48, 10, 2.5, colour, keyframe_every=1.0)
    assert len(units) == 25
    assert keyframes(units) == [0, 10, 20]
    for pictures in decode_each(units):
        [picture] = pictures
        assert (picture.width, picture.height) == (64, 48)
        pixels = picture.to_ndarray(format="bgr24").reshape(-1, 3).astype(int)
        assert np.abs(pixels - colour).max() <= 4, (colour, pixels.min(axis=0), pixels.max(axis=0))


def test_the_encoder_refuses_what_it_cannot_encode():
    with pytest.raises(ValueError, match=r"even width and height, not 161x90"):
        H264Encoder(161, 90, fps=10)
    with pytest.raises(ValueError, match="fps must be positive"):
        H264Encoder(160, 90, fps=0)
    with pytest.raises(ValueError, match="keyframe interval must be positive"):
        H264Encoder(160, 90, fps=10, keyframe_every=0)
    with pytest.raises(ValueError, match="bitrate must be between"):
        H264Encoder(160, 90, fps=10, bitrate=1000)
    with pytest.raises(ValueError, match=r"Expected a 160x90 BGR picture"):
        H264Encoder(160, 90, fps=10).encode(np.zeros((90, 161, 3), np.uint8))


# --- push and the command, against a stand-in for the device websocket ----------------------


class Site:
    """Records each connection's binary messages and its Authorization header."""

    def __init__(self, close_after: int | None = None) -> None:
        self.connections: list[list[bytes]] = []
        self.headers: list[str | None] = []
        self.close_after = close_after
        self.url = ""

    async def handler(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.headers.append(connection.request.headers.get("Authorization"))
        messages: list[bytes] = []
        self.connections.append(messages)
        async for message in connection:
            assert isinstance(message, bytes)
            messages.append(message)
            if self.close_after is not None and len(messages) >= self.close_after:
                await connection.close(4429)
                return


@contextlib.asynccontextmanager
async def site(close_after: int | None = None) -> AsyncIterator[Site]:
    stand_in = Site(close_after)
    async with serve(stand_in.handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        stand_in.url = f"ws://127.0.0.1:{port}/ws/device/"
        yield stand_in


def test_push_sends_one_access_unit_a_message_starting_with_a_keyframe():
    async def scenario() -> tuple[int, Site]:
        async with site() as stand_in:
            sent = await push(stand_in.url, "tok", fps=20, scene=Scene(96, 64), seconds=1.2, codec="h264")
            await asyncio.sleep(0.1)
        return sent, stand_in

    sent, stand_in = asyncio.run(scenario())
    [messages] = stand_in.connections
    assert stand_in.headers == ["Bearer tok"]
    assert len(messages) == sent
    assert 18 <= sent <= 24
    first = nal_unit_types(messages[0])
    assert first.index(NAL_SPS) < first.index(NAL_PPS) < first.index(NAL_IDR)
    assert all(message.startswith(START_CODES) for message in messages)
    assert all(len(p) == 1 for p in decode_each(messages))


def test_push_still_sends_jpegs_when_asked():
    async def scenario() -> Site:
        async with site() as stand_in:
            await push(stand_in.url, "tok", fps=10, scene=Scene(96, 64), seconds=0.3, codec="jpeg")
            await asyncio.sleep(0.1)
        return stand_in

    [messages] = asyncio.run(scenario()).connections
    assert messages
    assert all(message.startswith(b"\xff\xd8\xff") for message in messages)


def test_push_refuses_an_odd_size_for_h264_before_connecting():
    async def scenario() -> None:
        await push("ws://127.0.0.1:9/ws/device/", "tok", fps=10, scene=Scene(97, 64), seconds=1, codec="h264")

    with pytest.raises(ValueError, match="even width and height"):
        asyncio.run(scenario())


def test_every_new_connection_starts_a_new_stream_with_a_keyframe():
    """After the server closes the socket the camera reconnects; the new socket begins with SPS, PPS and an IDR."""

    async def scenario() -> Site:
        async with site(close_after=5) as stand_in:
            camera = asyncio.create_task(
                push_forever(stand_in.url, "tok", fps=20, scene=Scene(96, 64), codec="h264", min_backoff=0.05)
            )
            deadline = time.monotonic() + 10
            while len(stand_in.connections) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            camera.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await camera
        return stand_in

    stand_in = asyncio.run(scenario())
    assert len(stand_in.connections) >= 3
    for messages in stand_in.connections[:2]:
        assert len(messages) == 5
        assert [NAL_IDR in nal_unit_types(m) for m in messages] == [True, False, False, False, False]
        assert NAL_SPS in nal_unit_types(messages[0])
        assert all(len(p) == 1 for p in decode_each(messages))


def run_command(*args: str) -> tuple[list[bytes], str]:
    """``simulate_camera`` against a stand-in site: the one connection's messages, the output."""
    out = StringIO()

    async def scenario() -> Site:
        async with site() as stand_in:
            await asyncio.to_thread(
                call_command, "simulate_camera", "--url", stand_in.url, "--clip-every", "0", *args, stdout=out
            )
            await asyncio.sleep(0.1)
        return stand_in

    [messages] = asyncio.run(scenario()).connections
    return messages, out.getvalue()


def test_the_command_pushes_h264_by_default_and_says_so():
    messages, output = run_command(
        *("--token", "tok", "--label", "Porch", "--size", "320x180", "--fps", "10", "--seconds", "0.5")
    )
    lines = output.splitlines()
    assert lines[0] == (
        f"Porch: pushing 320x180 at 10 fps (H.264, 125 kbit/s, a keyframe every 2 s) to {lines[0].split(' to ')[1]}"
    )
    assert lines[0].endswith("for 0.5 s")
    assert NAL_IDR in nal_unit_types(messages[0])
    assert lines[1] == f"Porch: sent {len(messages)} frames"


def test_the_command_says_the_bitrate_and_keyframe_interval_it_was_given():
    messages, output = run_command(
        *("--token", "tok", "--size", "160x96", "--fps", "10", "--seconds", "1.2"),
        *("--bitrate", "300", "--keyframe-every", "0.5"),
    )
    assert "(H.264, 300 kbit/s, a keyframe every 0.5 s)" in output
    assert keyframes(messages)[:3] == [0, 5, 10]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--size", "161x90"), r"--size needs even numbers for H.264.*'161x90'.*--codec jpeg"),
        (("--codec", "vp8"), r"argument --codec: invalid choice: 'vp8' \(choose from '?h264'?, '?jpeg'?\)"),
        (("--bitrate", "0"), r"--bitrate must be between 50 and 20000 kbit/s; got 0"),
        (("--bitrate", "fast"), r"argument --bitrate: invalid int value: 'fast'"),
        (("--keyframe-every", "0"), r"--keyframe-every must be more than 0 and at most 2 seconds"),
        (("--keyframe-every", "5"), r"at most 2 seconds \(the device protocol's longest keyframe interval\); got 5"),
        (("--quality", "50"), r"--quality is for --codec jpeg"),
        (("--codec", "jpeg", "--bitrate", "500"), r"--bitrate and --keyframe-every are for --codec h264"),
        (("--codec", "jpeg", "--quality", "0"), r"--quality must be between 1 and 100; got 0"),
    ],
)
def test_the_command_refuses_codec_options_it_cannot_honour(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_camera", "--token", "nvr1.x.y.z", "--clip-every", "0", *args)


def test_the_command_takes_an_odd_size_for_jpeg():
    """The even-size rule is H.264's: a JPEG camera may still have any size (it fails only to connect here)."""
    with pytest.raises(CommandError, match="1 of 1 cameras failed"):
        call_command(
            "simulate_camera",
            *("--token", "nvr1.x.y.z", "--codec", "jpeg", "--size", "161x91", "--seconds", "0.2"),
            *("--url", f"ws://127.0.0.1:{free_port()}/ws/device/", "--clip-every", "0"),
            stdout=StringIO(),
            stderr=StringIO(),
        )

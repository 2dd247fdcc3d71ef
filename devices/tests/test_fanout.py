"""The in-process fan-out: newest frame wins, bounded in flight, wrong frames never sent."""

import asyncio
import uuid

from devices.fanout import JPEG, LiveFrame, LiveHub, ViewerSlot, _Feed


def test_a_slow_viewer_gets_the_newest_frame_and_never_more_than_its_credits():
    async def scenario() -> tuple[list[bytes], int]:
        sent: list[bytes] = []
        gate = asyncio.Event()

        async def slow_send(frame: bytes) -> None:
            sent.append(frame)
            await gate.wait()  # the socket is stuck

        slot = ViewerSlot(camera_id=uuid.uuid4(), account_id=uuid.uuid4(), send=slow_send, credits=2)
        for n in range(100):
            slot.offer(LiveFrame(JPEG, bytes([n])))
            await asyncio.sleep(0)
        in_flight = len(sent)
        gate.set()
        slot.ack()
        await asyncio.sleep(0.01)
        slot.close()
        return sent, in_flight

    sent, in_flight = asyncio.run(scenario())
    assert in_flight == 1  # the pump waits on the stuck send: nothing queues behind it
    assert sent[-1] == bytes([99])  # after the ack, the newest frame, not the next in line
    assert len(sent) <= 3


def test_a_viewer_that_never_acks_stops_receiving_after_its_credits():
    async def scenario() -> int:
        sent: list[bytes] = []

        async def send(frame: bytes) -> None:
            sent.append(frame)

        slot = ViewerSlot(camera_id=uuid.uuid4(), account_id=uuid.uuid4(), send=send, credits=2)
        for n in range(50):
            slot.offer(LiveFrame(JPEG, bytes([n])))
            await asyncio.sleep(0)
        slot.close()
        return len(sent)

    assert asyncio.run(scenario()) == 2


def test_a_frame_for_another_camera_or_household_is_counted_and_dropped():
    async def scenario() -> tuple[list[bytes], int]:
        camera, account = uuid.uuid4(), uuid.uuid4()
        sent: list[bytes] = []

        async def send(frame: bytes) -> None:
            sent.append(frame)

        hub = LiveHub()
        slot = ViewerSlot(camera_id=camera, account_id=account, send=send, credits=5)
        feed = _Feed(channel="test", slots={slot})
        hub.dispatch(camera, feed, {"camera": camera.hex, "account": uuid.uuid4().hex, "frame": b"theirs"})
        hub.dispatch(camera, feed, {"camera": uuid.uuid4().hex, "account": account.hex, "frame": b"other cam"})
        hub.dispatch(camera, feed, {"camera": camera.hex, "account": account.hex, "frame": b"mine"})
        await asyncio.sleep(0.01)
        slot.close()
        return sent, hub.wrong_socket_frames

    sent, wrong = asyncio.run(scenario())
    assert sent == [b"mine"]
    assert wrong == 2

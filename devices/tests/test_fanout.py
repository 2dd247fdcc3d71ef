"""The in-process fan-out: newest frame wins, bounded in flight, wrong frames never sent."""

import asyncio
import json
import uuid

from devices import fanout
from devices.fanout import JPEG, MP4, LiveFrame, LiveHub, ViewerSlot, _Feed


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
        feed = _Feed(channel="test", account_id=account, slots={slot})
        hub.dispatch(camera, feed, {"camera": camera.hex, "account": uuid.uuid4().hex, "frame": b"theirs"})
        hub.dispatch(camera, feed, {"camera": uuid.uuid4().hex, "account": account.hex, "frame": b"other cam"})
        hub.dispatch(camera, feed, {"camera": camera.hex, "account": account.hex, "frame": b"mine"})
        await asyncio.sleep(0.01)
        slot.close()
        return sent, hub.wrong_socket_frames

    sent, wrong = asyncio.run(scenario())
    assert sent == [b"mine"]
    assert wrong == 2


# --- MP4: groups of pictures --------------------------------------------------------------------


def mp4(seq: int, *, key: bool = False, stream: str = "s.1") -> LiveFrame:
    return LiveFrame(MP4, f"{stream}:{seq}".encode(), key, stream, seq, b"INIT:" if key else b"", "h264")


class Viewer:
    """A slot's socket that records what it was sent and acks only when told."""

    def __init__(self, *, mp4: bool = True, hevc: bool = False, credits: int = 2) -> None:
        self.sent: list[bytes] = []
        self.texts: list[str] = []

        async def send(frame: bytes) -> None:
            self.sent.append(frame)

        async def send_text(text: str) -> None:
            self.texts.append(text)

        self.slot = ViewerSlot(
            camera_id=CAMERA, account_id=ACCOUNT, send=send, send_text=send_text, credits=credits, mp4=mp4, hevc=hevc
        )


CAMERA, ACCOUNT = uuid.uuid4(), uuid.uuid4()


def message(frame: LiveFrame, *, account: uuid.UUID = ACCOUNT) -> dict:
    return frame.message(CAMERA, account)


def test_an_mp4_viewer_starts_at_a_keyframe_with_its_init_once():
    async def scenario() -> list[bytes]:
        viewer = Viewer(credits=100)
        for frame in [mp4(1), mp4(2), mp4(3, key=True), mp4(4), mp4(5, key=True)]:
            viewer.slot.offer(frame)
            await asyncio.sleep(0)
        viewer.slot.close()
        return viewer.sent

    assert asyncio.run(scenario()) == [b"INIT:s.1:3", b"s.1:4", b"s.1:5"]


def test_a_slow_mp4_viewer_skips_to_the_newest_keyframe_and_never_holds_more():
    async def scenario() -> tuple[list[bytes], int]:
        viewer = Viewer(credits=1)
        viewer.slot.offer(mp4(1, key=True))
        await asyncio.sleep(0)  # sent: the one credit is used
        for seq in range(2, 40):
            viewer.slot.offer(mp4(seq, key=seq % 10 == 0))
        viewer.slot.ack()
        await asyncio.sleep(0)
        viewer.slot.close()
        return viewer.sent, viewer.slot.skipped

    sent, skipped = asyncio.run(scenario())
    # What piled up goes as one message: from the newest keyframe (30) on, no init again.
    assert sent == [b"INIT:s.1:1", b"".join(f"s.1:{seq}".encode() for seq in range(30, 40))]
    assert skipped == 28


def test_a_missing_picture_makes_the_viewer_wait_for_the_next_keyframe():
    async def scenario() -> list[bytes]:
        viewer = Viewer(credits=100)
        for frame in [mp4(1, key=True), mp4(2), mp4(4), mp4(5), mp4(6, key=True)]:
            viewer.slot.offer(frame)
            await asyncio.sleep(0)
        viewer.slot.close()
        return viewer.sent

    assert asyncio.run(scenario()) == [b"INIT:s.1:1", b"s.1:2", b"s.1:6"]


def test_a_new_stream_sends_its_init_again():
    async def scenario() -> list[bytes]:
        viewer = Viewer(credits=100)
        for frame in [mp4(1, key=True), mp4(2), mp4(1, key=True, stream="s.2")]:
            viewer.slot.offer(frame)
            await asyncio.sleep(0)
        viewer.slot.close()
        return viewer.sent

    assert asyncio.run(scenario()) == [b"INIT:s.1:1", b"s.1:2", b"INIT:s.2:1"]


def test_jpeg_made_for_others_skips_mp4_viewers_and_a_jpeg_viewer_is_told_it_cannot_play(monkeypatch):
    monkeypatch.setattr(fanout, "UNPLAYABLE_AFTER_S", 0.0)

    async def scenario() -> tuple[Viewer, Viewer]:
        plays, cannot = Viewer(credits=100), Viewer(mp4=False, credits=100)
        hub = LiveHub()
        feed = _Feed(channel="test", account_id=ACCOUNT, slots={plays.slot, cannot.slot})
        hub.dispatch(CAMERA, feed, message(mp4(1, key=True)))
        hub.dispatch(CAMERA, feed, message(LiveFrame(JPEG, b"fallback", fallback="h264")))
        hub.dispatch(CAMERA, feed, message(mp4(2)))
        await asyncio.sleep(0.01)
        for viewer in (plays, cannot):
            viewer.slot.close()
        return plays, cannot

    plays, cannot = asyncio.run(scenario())
    assert b"".join(plays.sent) == b"INIT:s.1:1s.1:2"
    assert cannot.sent == [b"fallback"]
    assert cannot.texts == []  # it gets pictures

    async def only_mp4() -> Viewer:
        cannot = Viewer(mp4=False, credits=100)
        for seq in (1, 2):
            cannot.slot.offer(mp4(seq, key=seq == 1))
        await asyncio.sleep(0.01)
        cannot.slot.close()
        return cannot

    cannot = asyncio.run(only_mp4())
    assert cannot.sent == []
    assert [json.loads(text)["state"] for text in cannot.texts] == ["unplayable"]


def test_mp4_and_status_for_another_household_are_dropped():
    async def scenario() -> tuple[Viewer, int]:
        viewer = Viewer(credits=100)
        hub = LiveHub()
        feed = _Feed(channel="test", account_id=ACCOUNT, slots={viewer.slot})
        hub.dispatch(CAMERA, feed, message(mp4(1, key=True), account=uuid.uuid4()))
        status = {"type": fanout.STATUS_MESSAGE, "camera": CAMERA.hex, "account": uuid.uuid4().hex, "state": "x"}
        hub.dispatch(CAMERA, feed, status)
        await asyncio.sleep(0.01)
        viewer.slot.close()
        return viewer, hub.wrong_socket_frames

    viewer, wrong = asyncio.run(scenario())
    assert viewer.sent == []
    assert viewer.texts == []
    assert wrong == 2


def test_a_replayed_group_of_pictures_is_completed_by_what_arrived_meanwhile():
    async def scenario() -> list[bytes]:
        viewer = Viewer(credits=100)
        hub = LiveHub()
        feed = _Feed(channel="test", account_id=ACCOUNT, slots={viewer.slot})
        hub.dispatch(CAMERA, feed, message(mp4(4)))  # live, before the replay's answer
        replay = {
            "type": fanout.GOP_MESSAGE,
            "camera": CAMERA.hex,
            "account": ACCOUNT.hex,
            "frames": [message(mp4(2, key=True)), message(mp4(3))],
        }
        hub.dispatch(CAMERA, feed, replay)
        hub.dispatch(CAMERA, feed, message(mp4(5)))
        hub.dispatch(CAMERA, feed, replay)  # a second answer (two publishers): ignored
        await asyncio.sleep(0.01)
        viewer.slot.close()
        return viewer.sent

    assert b"".join(asyncio.run(scenario())) == b"INIT:s.1:2s.1:3s.1:4s.1:5"


def test_a_viewer_joining_late_gets_the_current_group_of_pictures_at_once(settings):
    """Over the channel layer: the publisher keeps the group of pictures; a process that
    subscribes asks for it; a second viewer in that process gets it from the hub."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from devices.fmp4 import Fragment

    def fragment(seq: int, key: bool) -> Fragment:
        return Fragment(f"s.1:{seq}".encode(), key, "s.1", seq, b"INIT:" if key else b"", "avc1.42c01e", 16, 16)

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        keeper = fanout.GopKeeper(camera_id=CAMERA, account_id=ACCOUNT)
        replies = asyncio.create_task(keeper.answer_replays())
        await asyncio.sleep(0.01)
        for seq in range(1, 8):
            await keeper.publish(fragment(seq, key=seq in (1, 5)))
        hub = LiveHub()
        first, second = Viewer(credits=100), Viewer(credits=100)
        await hub.attach(first.slot)
        await asyncio.sleep(0.05)
        await hub.attach(second.slot)
        await asyncio.sleep(0.01)
        for viewer in (first, second):
            await hub.detach(viewer.slot)
        replies.cancel()
        return first.sent, second.sent

    first, second = asyncio.run(scenario())
    assert b"".join(first) == b"INIT:s.1:5s.1:6s.1:7"
    assert b"".join(second) == b"INIT:s.1:5s.1:6s.1:7"


def test_a_joiner_gets_no_kept_pictures_of_a_camera_that_stopped(monkeypatch):
    """Said offline, or silent past GOP_FRESH_S (its process died): a kept group of
    pictures would look live."""

    async def joiner_after(event: dict | None) -> list[bytes]:
        hub = LiveHub()
        first, joiner = Viewer(credits=100), Viewer(credits=100)
        feed = _Feed(channel="test", account_id=ACCOUNT, slots={first.slot})
        hub._feeds[CAMERA] = feed
        for frame in (mp4(1, key=True), mp4(2)):
            hub.dispatch(CAMERA, feed, message(frame))
        if event is not None:
            hub.dispatch(CAMERA, feed, event)
        await hub.attach(joiner.slot)  # the feed is there: no subscription
        await asyncio.sleep(0.01)
        for viewer in (first, joiner):
            viewer.slot.close()
        return joiner.sent

    offline = {"type": fanout.STATUS_MESSAGE, "camera": CAMERA.hex, "account": ACCOUNT.hex, "state": "offline"}
    assert b"".join(asyncio.run(joiner_after(None))) == b"INIT:s.1:1s.1:2"  # the check can fail
    assert asyncio.run(joiner_after(offline)) == []
    monkeypatch.setattr(fanout, "GOP_FRESH_S", -1.0)
    assert asyncio.run(joiner_after(None)) == []


def test_h265_goes_to_viewers_who_play_it_and_jpeg_to_those_who_do_not():
    async def scenario() -> tuple[Viewer, Viewer]:
        hevc = Viewer(credits=100, hevc=True)
        h264_only = Viewer(credits=100)
        hub = LiveHub()
        feed = _Feed(channel="test", account_id=ACCOUNT, slots={hevc.slot, h264_only.slot})
        h265 = LiveFrame(MP4, b"hevc:1", True, "s.1", 1, b"INIT:", "hevc")
        hub.dispatch(CAMERA, feed, message(h265))
        hub.dispatch(CAMERA, feed, message(LiveFrame(JPEG, b"fallback", fallback="hevc")))
        await asyncio.sleep(0.01)
        for viewer in (hevc, h264_only):
            viewer.slot.close()
        return hevc, h264_only

    hevc, h264_only = asyncio.run(scenario())
    assert hevc.sent == [b"INIT:hevc:1"]
    assert h264_only.sent == [b"fallback"]


def test_what_a_feed_keeps_for_joiners_is_only_its_own_households():
    """A picture or a replay tagged with another household is sent to nobody now and kept for
    nobody later (a joiner gets the feed's group of pictures)."""

    async def scenario() -> tuple[list[bytes], int]:
        hub = LiveHub()
        first = Viewer(credits=100)
        feed = _Feed(channel="test", account_id=ACCOUNT, slots={first.slot})
        hub._feeds[CAMERA] = feed
        theirs = uuid.uuid4()
        hub.dispatch(CAMERA, feed, message(mp4(1, key=True, stream="theirs"), account=theirs))
        hub.dispatch(CAMERA, feed, message(mp4(2, stream="theirs"), account=theirs))
        replay = {
            "type": fanout.GOP_MESSAGE,
            "camera": CAMERA.hex,
            "account": ACCOUNT.hex,  # the envelope says ours, a picture inside says theirs
            "frames": [message(mp4(5, key=True)), message(mp4(6), account=theirs)],
        }
        hub.dispatch(CAMERA, feed, replay)
        joiner = Viewer(credits=100)
        await hub.attach(joiner.slot)
        await asyncio.sleep(0.01)
        for viewer in (first, joiner):
            viewer.slot.close()
        return first.sent + joiner.sent, hub.wrong_socket_frames

    sent, wrong = asyncio.run(scenario())
    assert sent == []
    assert wrong == 2  # the replay was malformed: dropped before any check


def test_an_init_segment_dropped_with_a_slow_viewers_queue_is_sent_again():
    async def scenario() -> list[bytes]:
        viewer = Viewer(credits=1)
        viewer.slot.offer(mp4(1, key=True))
        await asyncio.sleep(0)  # sent: the one credit is used
        viewer.slot.offer(mp4(1, key=True, stream="s.2"))  # a new stream, queued with its init...
        viewer.slot.offer(mp4(2, key=True, stream="s.2"))  # ...dropped for the newer keyframe
        viewer.slot.ack()
        await asyncio.sleep(0)
        viewer.slot.close()
        return viewer.sent

    assert asyncio.run(scenario()) == [b"INIT:s.1:1", b"INIT:s.2:2"]


def test_pictures_waiting_for_a_replay_are_bounded_in_bytes(monkeypatch):
    monkeypatch.setattr(fanout, "MAX_GOP_BYTES", 100)
    feed = _Feed(channel="test", account_id=ACCOUNT)
    for seq in range(50):
        feed.remember(LiveFrame(MP4, bytes(30), False, "s.1", seq, b"", "h264"))
    assert feed.early_bytes <= 100
    assert len(feed.early) == 3


def test_an_mp4_viewer_acks_in_batches_within_a_window_of_bytes():
    async def scenario() -> list[int]:
        sent: list[bytes] = []

        async def send(frame: bytes) -> None:
            sent.append(frame)

        slot = ViewerSlot(camera_id=CAMERA, account_id=ACCOUNT, send=send, credits=30, window_bytes=250, mp4=True)
        counts = []
        slot.offer(LiveFrame(MP4, bytes(100), True, "s.1", 1, b"", "h264"))
        for seq in range(2, 6):
            await asyncio.sleep(0)
            slot.offer(LiveFrame(MP4, bytes(100), False, "s.1", seq, b"", "h264"))
        await asyncio.sleep(0)
        counts.append(len(sent))  # 3 sent (300 bytes: the window is full once past 250)
        slot.ack(2)
        await asyncio.sleep(0)
        counts.append(len(sent))  # 2 more in flight allowed, as one message (what queued)
        slot.ack(99)  # more than in flight: all of them, no more
        slot.offer(LiveFrame(MP4, bytes(100), False, "s.1", 6, b"", "h264"))
        await asyncio.sleep(0)
        counts.append(len(sent))
        slot.close()
        return counts

    assert asyncio.run(scenario()) == [3, 4, 5]


def test_jpeg_to_an_mp4_viewer_keeps_jpegs_tighter_limit():
    async def scenario() -> int:
        sent: list[bytes] = []

        async def send(frame: bytes) -> None:
            sent.append(frame)

        slot = ViewerSlot(
            camera_id=CAMERA, account_id=ACCOUNT, send=send, credits=30, window_bytes=10**6, jpeg_credits=2, mp4=True
        )
        for n in range(10):
            slot.offer(LiveFrame(JPEG, bytes([n])))
            await asyncio.sleep(0)
        slot.close()
        return len(sent)

    assert asyncio.run(scenario()) == 2

"""The baseline for ``live_fanout.py``: a bare asyncio ``websockets`` relay.

``/pub/<camera>/`` takes binary frames from one publisher; ``/view/<camera>/``
receives them, each message as it came. The flow control is the NVR's
(``devices/fanout.py``): a viewer has at most ``--credits`` messages
unacknowledged (it sends the text ``ack`` after each one) and each viewer sends
from its own task. For JPEG each viewer keeps only the newest frame. H.264 access
units (a message starting with a start code, ``00 00 01`` or ``00 00 00 01``) cannot
be skipped, so as for the NVR's MP4 viewers they queue, and the ones that piled up
while the viewer had no credit go out as one message (the access units back to
back, still an Annex B stream). No authentication, no database, no channel layer,
no MP4 boxes: what is left is the cost of moving the bytes.

    python bench/bare_relay.py --port 8765
"""

import argparse
import asyncio
import logging
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, serve

logger = logging.getLogger("bare_relay")


MAX_QUEUED_BYTES = 8 * 1024 * 1024  # as devices.fanout.MAX_GOP_BYTES: a viewer that far behind starts over


def is_h264(frame: bytes) -> bool:
    return frame.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01"))


class Slot:
    """One viewer: the newest JPEG frame or the H.264 access units not sent yet, and how
    many more messages it may have in flight."""

    def __init__(self, socket: ServerConnection, credits: int) -> None:
        self.socket = socket
        self.credits = self.max_credits = max(1, credits)
        self.latest: bytes | None = None
        self.queue: list[bytes] = []
        self.queued_bytes = 0
        self.wake = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self.pump())

    def offer(self, frame: bytes) -> None:
        if is_h264(frame):
            self.queue.append(frame)
            self.queued_bytes += len(frame)
            if self.queued_bytes > MAX_QUEUED_BYTES:
                self.queue, self.queued_bytes = [], 0
        else:
            self.latest = frame
        self.wake.set()

    def ack(self) -> None:
        self.credits = min(self.max_credits, self.credits + 1)
        self.wake.set()

    async def pump(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.credits > 0 and (self.latest is not None or self.queue):
                if self.queue:
                    frame = self.queue[0] if len(self.queue) == 1 else b"".join(self.queue)
                    self.queue, self.queued_bytes = [], 0
                else:
                    assert self.latest is not None
                    frame, self.latest = self.latest, None
                self.credits -= 1
                await self.socket.send(frame)


class Relay:
    def __init__(self, credits: int) -> None:
        self.credits = credits
        self.viewers: defaultdict[str, set[Slot]] = defaultdict(set)

    async def handle(self, socket: ServerConnection) -> None:
        parts = [part for part in socket.request.path.split("/") if part] if socket.request else []
        if len(parts) != 2 or parts[0] not in ("pub", "view"):
            await socket.close(code=4404, reason="unknown path")
            return
        role, camera = parts
        if role == "pub":
            await self.publish(socket, camera)
        else:
            await self.view(socket, camera)

    async def publish(self, socket: ServerConnection, camera: str) -> None:
        async for message in socket:
            if isinstance(message, bytes):
                for slot in self.viewers.get(camera, ()):
                    slot.offer(message)

    async def view(self, socket: ServerConnection, camera: str) -> None:
        slot = Slot(socket, self.credits)
        self.viewers[camera].add(slot)
        try:
            async for message in socket:
                if message == "ack":
                    slot.ack()
        finally:
            slot.task.cancel()
            self.viewers[camera].discard(slot)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--credits", type=int, default=2, help="frames a viewer may have unacknowledged")
    args = parser.parse_args()
    relay = Relay(args.credits)
    # No compression, 2 MiB frames: the same as daphne offers the NVR's clients.
    async with serve(relay.handle, args.host, args.port, compression=None, max_size=2**21) as server:
        print(f"listening on {args.host}:{args.port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main())

"""Stamps for ``bench/soak.py``: who a JPEG belongs to, in a comment segment it still is a JPEG with.

A stamp is a JPEG comment (FF FE, 2-byte length, payload) right after the SOI marker:
magic, sequence number, the household's id and the camera's id (zero for a thumbnail,
which belongs to a household's clip rather than a live camera).
"""

import struct
import uuid
from dataclasses import dataclass
from functools import cache

MAGIC = b"SOAK"
PAYLOAD = struct.Struct(">4sI16s16s")
HEADER = b"\xff\xfe" + (PAYLOAD.size + 2).to_bytes(2, "big")
PREFIX = 2 + len(HEADER) + PAYLOAD.size


@dataclass(frozen=True)
class Stamp:
    seq: int
    account: uuid.UUID
    camera: uuid.UUID


@cache
def base_jpeg() -> bytes:
    """A small valid JPEG (64x48, grey) every stamp is put into."""
    import cv2
    import numpy as np

    ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 120, dtype=np.uint8))
    assert ok
    return bytes(jpeg)


def stamp(seq: int, account: uuid.UUID, camera: uuid.UUID | None = None) -> bytes:
    frame = base_jpeg()
    payload = PAYLOAD.pack(MAGIC, seq & 0xFFFFFFFF, account.bytes, (camera or uuid.UUID(int=0)).bytes)
    return b"".join((frame[:2], HEADER, payload, frame[2:]))


def read_stamp(data: bytes) -> Stamp | None:
    if len(data) < PREFIX or data[2:6] != HEADER:
        return None
    magic, seq, account, camera = PAYLOAD.unpack_from(data, 6)
    if magic != MAGIC:
        return None
    return Stamp(seq, uuid.UUID(bytes=account), uuid.UUID(bytes=camera))

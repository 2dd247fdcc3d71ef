"""Where uploads in progress keep their encrypted bytes, and the running SHA-256 of each.

A partial file's name is built from the household's id and the upload's id
(server-side ids only; a client's filename never reaches a path). It lives in
the clip storage's ``.partial/`` folder, on the same filesystem as the final
name, so completing an upload moves it into place with a rename.
"""

import hashlib
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Final

from recordings import files

__all__ = ["RunningHashes", "partial_dir", "partial_path", "remove_partial", "running_hashes"]


def partial_dir() -> Path:
    """The clip storage's temporary folder (``<media>/.partial`` on the local disk)."""
    return files.clip_storage.temporary_directory()


def partial_path(account_id: uuid.UUID, upload_id: uuid.UUID) -> Path:
    return files.clip_storage.partial_path(account_id, upload_id)


def remove_partial(account_id: uuid.UUID, upload_id: uuid.UUID) -> bool:
    """Delete the upload's partial file and forget its running hash; False if the file was already gone."""
    running_hashes.forget(upload_id)
    return files.clip_storage.partial_remove(account_id, upload_id)


class RunningHashes:
    """SHA-256 states of uploads in progress, in this process's memory.

    hashlib's state cannot be stored, so each PATCH carries the hash forward
    here, keyed by (upload id, offset) and by the authentication tag of the
    file's last sealed chunk at that offset. A PATCH handled by another process,
    a restart, or a rolled-back append leaves no matching entry, and completion
    then hashes the partial file by decrypting it. Bounded: the least recently
    used entries go first.
    """

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[uuid.UUID, int], tuple[bytes, hashlib._Hash]] = OrderedDict()
        # daphne may run sync views on several threads.
        self._lock = threading.Lock()

    def take(self, upload_id: uuid.UUID, offset: int, tag: bytes) -> "hashlib._Hash | None":
        """The hash of the upload's first ``offset`` bytes if this process holds it for this very file."""
        with self._lock:
            entry = self._entries.pop((upload_id, offset), None)
        if entry is None or entry[0] != tag:
            return None
        return entry[1]

    def put(self, upload_id: uuid.UUID, offset: int, tag: bytes, digest: "hashlib._Hash") -> None:
        with self._lock:
            self._entries[(upload_id, offset)] = (tag, digest)
            self._entries.move_to_end((upload_id, offset))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def forget(self, upload_id: uuid.UUID) -> None:
        with self._lock:
            for key in [key for key in self._entries if key[0] == upload_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


running_hashes: Final = RunningHashes()

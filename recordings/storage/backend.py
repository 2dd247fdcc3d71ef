"""Where encrypted clips and thumbnails live, on any Django ``Storage``.

Names are built from server-side ids only::

    accounts/<account id hex>/<kind>/<object id hex[:2]>/<object id hex>.nvrc

with ``kind`` one of ``clips`` and ``thumbnails``. Nothing a client sends (a
filename, a content type) ever becomes part of a name.

The backend is ``storages["default"]`` unless one is given: a
``FileSystemStorage`` under ``MEDIA_ROOT`` with no ``base_url`` by default
(files are never served from a public URL). Only ``open(name, "rb")``,
``save``, ``delete``, ``exists`` and ``size`` are used, never ``path()`` or
``url()``, so an S3-compatible bucket works too, e.g.::

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "nvr-media", "default_acl": "private", "querystring_auth": True},
    }

(django-storages' ``S3File`` downloads the whole object into a local spooled
file on first read, so on S3 a Range read still decrypts only the chunks it
needs but transfers the object; a ranged-GET reader would be the next step.)

Writes are all-or-nothing: the source is encrypted into a local temporary file
(only ciphertext touches the disk), its SHA-256 is checked, and only then is it
handed to ``storage.save``. For a ``FileSystemStorage`` the temporary file lives
in ``<location>/.partial/`` on the same filesystem, and Django moves it into
place with ``os.rename`` (atomic: a reader sees the whole file or none). S3
makes an object visible only once its upload completes. An existing object is
never overwritten (``ObjectExists``).
"""

import contextlib
import hmac
import os
import re
import tempfile
import uuid
from collections.abc import Generator, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Final, Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils import timezone

from recordings.storage.chunked import (
    DEFAULT_CHUNK_SIZE,
    EncryptedFileInfo,
    EncryptingWriter,
    open_decrypted_range,
)
from recordings.storage.chunked import plaintext_size as header_plaintext_size
from recordings.storage.errors import ChecksumMismatch, ObjectExists, StorageError

__all__ = ["KINDS", "ClipStorage", "Readable", "path_for", "replace_encrypted"]

KINDS: Final = frozenset({"clips", "thumbnails"})
PARTIAL_DIR: Final = ".partial"
_COPY_SIZE: Final = 256 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_PARTIAL_NAME = re.compile(r"upload-([0-9a-f]{32})-([0-9a-f]{32})\.nvrc\.part")


def path_for(account_id: uuid.UUID, object_id: uuid.UUID, kind: str) -> str:
    """The storage name of an object: server-side ids only."""
    if not isinstance(account_id, uuid.UUID) or not isinstance(object_id, uuid.UUID):
        raise TypeError("account_id and object_id must be uuid.UUID")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}")
    return f"accounts/{account_id.hex}/{kind}/{object_id.hex[:2]}/{object_id.hex}.nvrc"


class Readable(Protocol):
    """What a source must offer: ``read(size)`` (a file, an ``UploadedFile``, an ``HttpRequest``)."""

    def read(self, size: int = -1, /) -> bytes: ...


class _TemporaryFile(File[bytes]):
    """A local file ``FileSystemStorage.save`` may move (rename) instead of copying."""

    def __init__(self, file: IO[bytes], path: str) -> None:
        super().__init__(file, name=os.path.basename(path))
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


class ClipStorage:
    """Encrypted clips and thumbnails of every household, on one Django storage.

    Every method takes the household's id and, to read or write, its data key
    (``keys.unwrap_data_key``); the id and the key must belong together, which
    the caller guarantees by taking both from the same scoped household row.
    """

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        temp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._storage = storage
        self.chunk_size = chunk_size
        self._temp_dir = temp_dir

    @property
    def storage(self) -> Storage:
        # Looked up on each use, so a module-level ClipStorage() follows STORAGES changes (tests).
        return self._storage if self._storage is not None else storages["default"]

    path_for = staticmethod(path_for)

    def temporary_directory(self) -> Path:
        """Where files are sealed before they get their name, and partial uploads live (created 0700).

        For a ``FileSystemStorage``, ``<location>/.partial`` (same filesystem as the
        final names, so moving a file into place is a rename); else ``temp_dir``,
        ``FILE_UPLOAD_TEMP_DIR`` or the system's temporary folder.
        """
        storage = self.storage
        if self._temp_dir is not None:
            folder = Path(self._temp_dir)
        elif isinstance(storage, FileSystemStorage):
            folder = Path(os.fspath(storage.location)) / PARTIAL_DIR
        elif settings.FILE_UPLOAD_TEMP_DIR:
            folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
        else:
            return Path(tempfile.gettempdir())
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def write_encrypted(
        self,
        *,
        account_id: uuid.UUID,
        object_id: uuid.UUID,
        kind: str,
        data_key: bytes,
        source: Readable,
        expected_sha256: str | None = None,
    ) -> EncryptedFileInfo:
        """Encrypt ``source`` (read to its end) into the object's name; all or nothing.

        ``ChecksumMismatch`` if the plaintext's SHA-256 is not ``expected_sha256``;
        ``ObjectExists`` if the object is already stored. Either way nothing is left
        behind. Memory use is bounded by one chunk, whatever the source's size.
        """
        name = path_for(account_id, object_id, kind)
        expected = None if expected_sha256 is None else expected_sha256.strip().lower()
        if expected is not None and not _SHA256_HEX.fullmatch(expected):
            raise ChecksumMismatch("The announced checksum is not a SHA-256 hex digest.")
        storage = self.storage
        if storage.exists(name):
            raise ObjectExists(name)
        fd, temp_path = tempfile.mkstemp(prefix="nvrc-", suffix=".part", dir=self.temporary_directory())
        try:
            with os.fdopen(fd, "w+b") as temp:
                info = self.seal_into(
                    temp, account_id=account_id, object_id=object_id, kind=kind, data_key=data_key, source=source
                )
                if expected is not None and not hmac.compare_digest(info.sha256_hex, expected):
                    raise ChecksumMismatch("The uploaded bytes do not match their announced SHA-256.")
                os.fsync(temp.fileno())
                temp.seek(0)
                saved = storage.save(name, _TemporaryFile(temp, temp_path))
            if saved != name:
                # Another writer won a race for the name and the storage picked another one.
                storage.delete(saved)
                raise ObjectExists(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_path)  # gone already when the storage moved it into place
        return info

    def seal_into(
        self,
        temp: IO[bytes],
        *,
        account_id: uuid.UUID,
        object_id: uuid.UUID,
        kind: str,
        data_key: bytes,
        source: Readable,
    ) -> EncryptedFileInfo:
        """Encrypt ``source`` (read to its end) into the local file ``temp``; memory bounded by one chunk."""
        writer = EncryptingWriter(
            temp, data_key=data_key, account_id=account_id, object_id=object_id, kind=kind, chunk_size=self.chunk_size
        )
        while block := source.read(_COPY_SIZE):
            writer.write(block)
        return writer.close()

    def open_range(
        self,
        *,
        account_id: uuid.UUID,
        object_id: uuid.UUID,
        kind: str,
        data_key: bytes,
        start: int,
        end_inclusive: int,
    ) -> Generator[bytes, None, None]:
        """Decrypted bytes ``start..end_inclusive``, a chunk at a time (for a streaming response).

        Checks the file and decrypts the first chunk before returning, so
        ``DecryptionError``, ``RangeNotSatisfiable`` and ``FileNotFoundError`` are
        raised here, not mid-response. The file is closed when the generator is
        exhausted or closed (``StreamingHttpResponse`` closes it).
        """
        name = path_for(account_id, object_id, kind)
        fileobj = self.storage.open(name, "rb")
        try:
            pieces = open_decrypted_range(
                fileobj,
                data_key=data_key,
                account_id=account_id,
                object_id=object_id,
                kind=kind,
                start=start,
                end_inclusive=end_inclusive,
            )
        except BaseException:
            fileobj.close()
            raise

        def stream() -> Generator[bytes, None, None]:
            try:
                yield from pieces
            finally:
                pieces.close()
                fileobj.close()

        return stream()

    def read_range(
        self,
        *,
        account_id: uuid.UUID,
        object_id: uuid.UUID,
        kind: str,
        data_key: bytes,
        start: int,
        end_inclusive: int,
    ) -> bytes:
        """``open_range`` joined into one ``bytes``: for small reads (thumbnails, tests)."""
        return b"".join(
            self.open_range(
                account_id=account_id,
                object_id=object_id,
                kind=kind,
                data_key=data_key,
                start=start,
                end_inclusive=end_inclusive,
            )
        )

    def plaintext_size(self, *, account_id: uuid.UUID, object_id: uuid.UUID, kind: str) -> int:
        """The object's plaintext size from its header (not authenticated until its last chunk is read)."""
        with self.storage.open(path_for(account_id, object_id, kind), "rb") as fileobj:
            return header_plaintext_size(fileobj)

    def stored_size(self, *, account_id: uuid.UUID, object_id: uuid.UUID, kind: str) -> int:
        """Bytes the object takes in storage (for quotas)."""
        return self.storage.size(path_for(account_id, object_id, kind))

    def exists(self, *, account_id: uuid.UUID, object_id: uuid.UUID, kind: str) -> bool:
        return self.storage.exists(path_for(account_id, object_id, kind))

    def delete(self, *, account_id: uuid.UUID, object_id: uuid.UUID, kind: str) -> None:
        """Remove the object; nothing happens if it is already gone."""
        with contextlib.suppress(FileNotFoundError):
            self.storage.delete(path_for(account_id, object_id, kind))

    def replace(
        self, *, account_id: uuid.UUID, object_id: uuid.UUID, kind: str, data_key: bytes, source: Readable
    ) -> EncryptedFileInfo:
        """Encrypt ``source`` over the stored object, atomically (see ``replace_encrypted``)."""
        return replace_encrypted(
            self, account_id=account_id, object_id=object_id, kind=kind, data_key=data_key, source=source
        )

    # Uploads in progress: one sealed container per upload, in the temporary folder,
    # named from server-side ids only, until ``publish`` gives it its final name.

    def partial_path(self, account_id: uuid.UUID, upload_id: uuid.UUID) -> Path:
        return self.temporary_directory() / f"upload-{account_id.hex}-{upload_id.hex}.nvrc.part"

    def partial_create(self, account_id: uuid.UUID, upload_id: uuid.UUID) -> IO[bytes]:
        """A new, empty partial file open for reading and writing (``FileExistsError`` if there is one)."""
        descriptor = os.open(self.partial_path(account_id, upload_id), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        return os.fdopen(descriptor, "r+b")

    def partial_open(self, account_id: uuid.UUID, upload_id: uuid.UUID) -> IO[bytes] | None:
        """The upload's partial file open for reading and writing; None if it is gone."""
        try:
            return open(self.partial_path(account_id, upload_id), "r+b")
        except FileNotFoundError:
            return None

    def partial_remove(self, account_id: uuid.UUID, upload_id: uuid.UUID) -> bool:
        """Delete the upload's partial file; False if it was already gone."""
        try:
            os.unlink(self.partial_path(account_id, upload_id))
        except FileNotFoundError:
            return False
        return True

    def partials(self) -> Iterator[tuple[uuid.UUID, uuid.UUID, float]]:
        """(account id, upload id, modification time) of every partial file; other files are skipped."""
        try:
            entries = list(os.scandir(self.temporary_directory()))
        except FileNotFoundError:
            return
        for entry in entries:
            match = _PARTIAL_NAME.fullmatch(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                modified = entry.stat(follow_symlinks=False).st_mtime
            except FileNotFoundError:
                continue
            yield uuid.UUID(hex=match[1]), uuid.UUID(hex=match[2]), modified

    def publish(self, account_id: uuid.UUID, upload_id: uuid.UUID, *, object_id: uuid.UUID, kind: str) -> None:
        """Give the upload's partial file the object's final name, keeping the partial name.

        On a local folder a hard link: atomic (a reader sees the whole file or
        none), refuses an existing name, and copies nothing. Elsewhere (S3, or a
        filesystem without hard links) the storage copies it. ``ObjectExists``
        if the name is taken.
        """
        path = self.partial_path(account_id, upload_id)
        name = path_for(account_id, object_id, kind)
        storage = self.storage
        if storage.exists(name):
            raise ObjectExists(name)
        if isinstance(storage, FileSystemStorage):
            final = Path(storage.path(name))
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, final)
            except FileExistsError:
                raise ObjectExists(name) from None
            except OSError:
                pass  # no hard links here: copy below
            else:
                if storage.file_permissions_mode is not None:
                    os.chmod(final, storage.file_permissions_mode)
                return
        with open(path, "rb") as partial:
            saved = storage.save(name, File(partial, name=os.path.basename(name)))
        if saved != name:
            storage.delete(saved)
            raise ObjectExists(name)

    # Listing, for the sweep: storage names relative to the storage's root.

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """(folders, files) under ``path``; both empty if it does not exist."""
        try:
            directories, names = self.storage.listdir(path)
        except FileNotFoundError:
            return [], []
        return list(directories), list(names)

    def modified_before(self, name: str, before: datetime) -> bool:
        """Whether the named file was last written before ``before`` (True if the storage cannot tell)."""
        try:
            modified = self.storage.get_modified_time(name)
        except FileNotFoundError:
            return False  # gone meanwhile
        except NotImplementedError:
            return True
        if timezone.is_naive(modified):
            modified = timezone.make_aware(modified, timezone.get_default_timezone())
        return modified < before

    def size(self, name: str) -> int:
        """Bytes the named file takes in storage."""
        return self.storage.size(name)


def replace_encrypted(
    clip_storage: ClipStorage,
    *,
    account_id: uuid.UUID,
    object_id: uuid.UUID,
    kind: str,
    data_key: bytes,
    source: Readable,
) -> EncryptedFileInfo:
    """Encrypt ``source`` into the object's name, replacing what is stored there, atomically.

    For what processing rewrites (the clip remuxed index-first, the poster): a
    reader sees the old file or the new one, never a missing or half-written
    one. The new file is encrypted completely into a temporary file first; on a
    ``FileSystemStorage`` it is then renamed over the old one (``os.replace``,
    same filesystem); on a storage that overwrites in one request (S3: a PUT
    replaces an object only once it is complete) it is saved under the same
    name. Any other storage raises ``StorageError`` rather than delete-then-write.
    """
    name = path_for(account_id, object_id, kind)
    storage = clip_storage.storage
    can_overwrite = isinstance(storage, FileSystemStorage) or getattr(storage, "file_overwrite", False)
    if not can_overwrite:
        raise StorageError(f"{type(storage).__name__} cannot replace an object atomically")
    fd, temp_path = tempfile.mkstemp(
        prefix="nvrc-",
        suffix=".part",
        dir=clip_storage.temporary_directory(),
    )
    try:
        with os.fdopen(fd, "w+b") as temp:
            info = clip_storage.seal_into(
                temp, account_id=account_id, object_id=object_id, kind=kind, data_key=data_key, source=source
            )
            temp.flush()
            os.fsync(temp.fileno())
            if isinstance(storage, FileSystemStorage):
                final = Path(storage.path(name))
                final.parent.mkdir(parents=True, exist_ok=True)
                if storage.file_permissions_mode is not None:
                    os.chmod(temp_path, storage.file_permissions_mode)
                os.replace(temp_path, final)
            else:
                temp.seek(0)
                saved = storage.save(name, File(temp, name=os.path.basename(name)))
                if saved != name:
                    storage.delete(saved)
                    raise StorageError(f"the storage saved {name} under another name")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_path)  # gone already once renamed into place
    return info

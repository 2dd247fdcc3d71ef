"""Why an upload is refused: what the services raise, with a message for the camera's developer.

No HTTP here: ``recordings.upload.views`` maps each kind to its tus status.
"""

__all__ = [
    "CameraGone",
    "ChecksumMismatch",
    "InFlightLimit",
    "InvalidPart",
    "LargerThanQuota",
    "PublishFailed",
    "StorageFull",
    "TooManyOpenUploads",
    "UploadConflict",
    "UploadError",
    "UploadNotFound",
]


class UploadError(Exception):
    """An upload the server refuses; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UploadNotFound(UploadError):
    """Unknown, expired, completed, cancelled, another camera's, or its bytes are gone."""


class UploadConflict(UploadError):
    """The request disagrees with the server's state: another offset, a reused key, already complete."""


class CameraGone(UploadError):
    """The camera was deleted after its token was checked: the token is no longer valid."""


class InvalidPart(UploadError):
    """A part that does not fit: past the declared length, or not a whole number of chunks."""


class ChecksumMismatch(UploadError):
    """The complete upload's SHA-256 is not the declared one; nothing was stored."""


class PublishFailed(UploadError):
    """The clip could not be given its final name; the upload stays resumable."""


class LargerThanQuota(UploadError):
    """The declared clip is larger than the household's whole storage quota: it could never be kept."""


class InFlightLimit(UploadError):
    """The household's open uploads already declare as many bytes as the server holds in flight for it."""


class TooManyOpenUploads(UploadError):
    """The camera has as many open uploads as it may: finish or cancel one first."""


class StorageFull(UploadError):
    """The server's disk (or quota of the filesystem) is full: nothing of the request was kept."""

"""The upload protocol's fixed values, shared by the server and the camera's side.

Standard library only: ``recordings/upload/client.py`` (a camera's tus client)
imports this module without loading Django or any server code, so the
client and the server cannot disagree on a value.
"""

from typing import Final

TUS_VERSION: Final = "1.0.0"
OFFSET_CONTENT_TYPE: Final = "application/offset+octet-stream"
CREATE_PATH: Final = "/api/v1/device/uploads/"
# Every part but the last is a whole number of these bytes (sent as Upload-Chunk-Multiple):
# the encryption chunk of recordings.storage, so each part seals whole chunks as it arrives.
CHUNK_MULTIPLE: Final = 1024 * 1024

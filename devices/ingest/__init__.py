"""The pull ingest worker: the server reads RTSP, HTTP and MJPEG cameras itself.

One process (``manage.py ingest_pull_cameras``) reads every enabled pull camera
of every household and publishes each frame to the camera's live group exactly
as a push camera's frames are (``devices.fanout.publish``). Its parts:

- ``config``: ``IngestConfig``, the tuning, built once from the settings;
- ``redaction``: stream addresses (they hold credentials) fit for logs;
- ``reader``: ``StreamReader``, one stream read in a child process
  (``reader_child.py``: no secrets, limits, protocol whitelist): packets for
  stream copy, and JPEG frames while someone watches;
- ``worker``: ``run_camera``, one camera's loop (address check at every connect,
  status, reconnects);
- ``supervisor``: ``run_all``, which cameras run, started and stopped.

A stream address is decrypted only in ``supervisor``; it reaches the child
through its stdin, and only its redacted form ever reaches a log line. A
camera's status is one of a few fixed sentences (``worker.STATUS``).
"""

from devices.ingest.config import IngestConfig
from devices.ingest.supervisor import run_all

__all__ = ["IngestConfig", "run_all"]

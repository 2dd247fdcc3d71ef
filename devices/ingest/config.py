"""The ingest worker's tuning: one frozen object, read once from the settings."""

from dataclasses import dataclass
from typing import Self

from django.conf import settings


@dataclass(frozen=True)
class IngestConfig:
    """How fast, how patiently and how often the worker reads each pull camera.

    Built once (``from_settings()``, or by a test) and handed down to every
    camera's loop and reader. Times are in seconds.
    """

    max_fps: float = 10.0  # frames a second per camera, at most: extra frames are skipped
    open_timeout: float = 10.0  # for the stream to open
    read_timeout: float = 10.0  # for one frame: also bounds how long a stopped camera's thread blocks
    backoff_base: float = 1.0  # the first reconnection delay; doubled per failed attempt...
    backoff_max: float = 30.0  # ...up to this; back to the base once a frame was read
    report_every: float = 2.0  # between two ONLINE reports with the measured frame rate
    segments_dir: str = ""  # the reader children's recorded files until stored ("": a private temporary folder)

    def __post_init__(self) -> None:
        # "not x > 0" so that NaN, which every comparison refuses, is refused too.
        positive = (self.max_fps, self.open_timeout, self.read_timeout, self.backoff_base, self.report_every)
        if not all(value > 0 for value in positive):
            raise ValueError("The ingest frame rate, timeouts, backoff and report interval must be positive.")
        if not self.backoff_max >= self.backoff_base:
            raise ValueError("The ingest backoff maximum must be at least its base.")

    @classmethod
    def from_settings(cls) -> Self:
        """The ``INGEST_*`` settings (nvr/settings.py)."""
        return cls(
            max_fps=settings.INGEST_MAX_FPS,
            open_timeout=settings.INGEST_OPEN_TIMEOUT_S,
            read_timeout=settings.INGEST_READ_TIMEOUT_S,
            backoff_base=settings.INGEST_BACKOFF_BASE_S,
            backoff_max=settings.INGEST_BACKOFF_MAX_S,
            report_every=settings.INGEST_REPORT_EVERY_S,
            segments_dir=str(settings.INGEST_SEGMENTS_DIR),
        )

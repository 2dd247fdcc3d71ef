"""Several simulated cameras at once: each streams live frames and, with a recorder, uploads clips.

``run_cameras`` is what ``manage.py simulate_camera`` runs once it has parsed
its options; it reports counts and failures and leaves the printing to the caller.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import TypedDict

from tools.simulator.clips import ClipRecorder
from tools.simulator.h264 import DEFAULT_KEYFRAME_EVERY
from tools.simulator.stream import DEFAULT_QUALITY, Codec, Scene, push, push_forever


class PushOptions(TypedDict):
    codec: Codec
    quality: int
    bitrate: int | None
    keyframe_every: float


@dataclass(frozen=True, slots=True)
class RunReport:
    """How a timed run went: clips uploaded per recorder; frames sent, or the exception, per camera."""

    clips: list[int]
    frames: list[int | BaseException]


async def run_cameras(
    url: str,
    tokens: list[str],
    scenes: list[Scene],
    recorders: list[ClipRecorder],
    *,
    fps: float,
    quality: int = DEFAULT_QUALITY,
    seconds: float | None,
    codec: Codec = "jpeg",
    bitrate: int | None = None,
    keyframe_every: float = DEFAULT_KEYFRAME_EVERY,
) -> RunReport:
    """Push ``scenes[i]`` with ``tokens[i]`` and run every recorder beside them.

    ``codec``, ``quality``, ``bitrate`` and ``keyframe_every`` are ``push``'s;
    ``bitrate`` None scales the default with each scene's pixel count.

    With ``seconds`` None the cameras reconnect for ever (this returns only by
    cancellation or an error); otherwise each stops after ``seconds``. A failed
    camera is reported, not raised, so the others finish. The recorders' clips
    are removed at the end either way.
    """
    options = PushOptions(codec=codec, quality=quality, bitrate=bitrate, keyframe_every=keyframe_every)
    started = time.monotonic()
    clips = [asyncio.create_task(recorder.run(started=started, seconds=seconds)) for recorder in recorders]
    try:
        if seconds is None:
            await asyncio.gather(
                *(
                    push_forever(url, token, fps=fps, scene=scene, **options)
                    for token, scene in zip(tokens, scenes, strict=True)
                ),
                *clips,
            )
            return RunReport(clips=[], frames=[])  # not reached: push_forever never returns
        results = await asyncio.gather(
            *(
                push(url, token, fps=fps, scene=scene, seconds=seconds, **options)
                for token, scene in zip(tokens, scenes, strict=True)
            ),
            return_exceptions=True,
        )
        uploaded = await asyncio.gather(*clips)
    finally:
        for task in clips:
            task.cancel()
        await asyncio.gather(*clips, return_exceptions=True)
        for recorder in recorders:
            recorder.close()
    return RunReport(clips=list(uploaded), frames=list(results))

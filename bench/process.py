"""Clip processing: motion analysis against OpenCV's own decode rate on the same clip.

For each resolution, a clip of ``--frames`` frames at ``--fps`` is generated
with ``tools.synth.make_clip`` (H.264 from libx264 ``veryfast``, no
B-frames, a keyframe every 2 s, a block moving during two intervals, per-pixel
noise of ``--noise`` grey levels: the default 3 gives about 4 Mbit/s at 1080p
and 2 Mbit/s at 720p, a camera's bitrate; less noise makes a clip that decodes
much faster than real footage, where BGR conversion weighs more). Then,
``--repeat`` times, interleaved:

- the baseline: a plain ``cv2.VideoCapture.read()`` loop over the clip (every
  frame decoded and converted to BGR, nothing else), FFmpeg's default threads;
- ``recordings.video.motion.analyse`` (default ``MotionSettings``: 5 analysed
  frames/s at 320 pixels wide; the other frames are ``grab()``-ed) in this process;
- ``recordings.video.isolate.run_isolated``: the same in a fresh limited child
  process, start-up included (what a worker really pays).

Rates are clip frames per second of wall time; the median run counts. One
JSON line per resolution on stdout::

    {"bench": "process", "resolution": "1920x1080", "frames": 450, "kbps": 3929, "opencv_read_fps": 250.7,
     "analysis_fps": 295.6, "isolated_fps": 259.8, "ratio": 1.179, "isolated_ratio": 1.036,
     "goal_ratio": 0.9, "ok": true, "events": [[2.2, 5.4, 0.47], ...], "runs": {...}, ...}

``ratio`` is ``analysis_fps / opencv_read_fps``; the goal (from the issue:
"analysis nearly free") is ``ratio >= 0.9``. Usage::

    .venv/bin/python bench/process.py                          # 720p and 1080p, 450 frames at 30 fps, 3 runs
    .venv/bin/python bench/process.py --resolutions 1080p --repeat 5
    .venv/bin/python bench/process.py --noise 1.5               # low bitrate: decoding is cheap, the rest weighs more
    .venv/bin/python bench/process.py --keep bench/results/clips  # keep the generated clips there (and reuse them)

Generating the two clips takes about 15 s on a 2-core machine, the runs about as long.
As with the other benches, trust the ratio (same clip, same run) over the absolute figures.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recordings.video.isolate import run_isolated
from recordings.video.motion import analyse
from recordings.video.results import MotionSettings
from tools.synth import make_clip

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080), "480p": (854, 480), "2160p": (3840, 2160)}
GOAL_RATIO = 0.9


def read_loop(path: Path) -> tuple[int, float]:
    """Frames decoded by a plain ``read()`` loop, and the seconds it took."""
    started = time.perf_counter()
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = 0
    while True:
        ok, _ = capture.read()
        if not ok:
            break
        frames += 1
    capture.release()
    return frames, time.perf_counter() - started


def measure(path: Path, width: int, height: int, frames: int, fps: int, repeat: int) -> dict[str, object]:
    settings = MotionSettings()
    read_fps: list[float] = []
    analysis_fps: list[float] = []
    isolated_fps: list[float] = []
    read_loop(path)  # warm the page cache and the libraries
    analysis = analyse(path, settings)
    for _ in range(repeat):
        decoded, seconds = read_loop(path)
        read_fps.append(decoded / seconds)
        started = time.perf_counter()
        analysis = analyse(path, settings)
        analysis_fps.append(analysis.frames_decoded / (time.perf_counter() - started))
        started = time.perf_counter()
        isolated = run_isolated(path, settings, timeout_s=120)
        isolated_fps.append(isolated.frames_decoded / (time.perf_counter() - started))
    baseline, analysed, in_child = (statistics.median(v) for v in (read_fps, analysis_fps, isolated_fps))
    ratio = analysed / baseline
    return {
        "bench": "process",
        "resolution": f"{width}x{height}",
        "frames": frames,
        "kbps": round(path.stat().st_size * 8 / (frames / fps) / 1000),
        "frames_decoded": analysis.frames_decoded,
        "frames_analysed": analysis.frames_analysed,
        "opencv_read_fps": round(baseline, 1),
        "analysis_fps": round(analysed, 1),
        "isolated_fps": round(in_child, 1),
        "ratio": round(ratio, 3),
        "isolated_ratio": round(in_child / baseline, 3),
        "goal_ratio": GOAL_RATIO,
        "ok": ratio >= GOAL_RATIO,
        "analysis_ms_per_frame": round(1000 / analysed, 3),
        "read_ms_per_frame": round(1000 / baseline, 3),
        "events": [[round(e.start_s, 2), round(e.end_s, 2), round(e.score, 2)] for e in analysis.events],
        "runs": {
            "opencv_read_fps": [round(v, 1) for v in read_fps],
            "analysis_fps": [round(v, 1) for v in analysis_fps],
            "isolated_fps": [round(v, 1) for v in isolated_fps],
        },
        "opencv": cv2.__version__,
        "threads": cv2.getNumberOfCPUs(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolutions", default="720p,1080p", help=f"comma-separated, of {', '.join(RESOLUTIONS)}")
    parser.add_argument("--frames", type=int, default=450)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--noise", type=float, default=3.0, help="grey levels of per-pixel noise (bitrate)")
    parser.add_argument("--keep", type=Path, help="write the clips into this folder and keep them")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-process-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.resolutions.split(","):
            width, height = RESOLUTIONS[name.strip()]
            path = folder / f"clip-{width}x{height}-{args.frames}f-{args.fps}fps-noise{args.noise:g}.mp4"
            seconds = args.frames / args.fps
            if not path.exists():
                started = time.perf_counter()
                motion = [(seconds * 0.15, seconds * 0.35), (seconds * 0.6, seconds * 0.7)]
                make_clip(
                    path, seconds=seconds, fps=args.fps, width=width, height=height, motion=motion, noise=args.noise
                )
                print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            print(json.dumps(measure(path, width, height, args.frames, args.fps, args.repeat)), flush=True)


if __name__ == "__main__":
    main()

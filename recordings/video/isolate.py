"""Decode untrusted clips in a separate, limited process; whatever the file does, the caller gets an answer.

Each call starts ``python -m recordings.video.worker`` (a fresh interpreter, not
a fork of the caller: no inherited sockets, database connections or threads)
with:

- a minimal environment (no ``SECRET_KEY``, database URL or other secret of
  the caller; a single malloc arena pair; one BLAS thread);
- ``RLIMIT_AS`` (``memory_mb``), ``RLIMIT_CPU`` (``cpu_s``, CPU seconds over
  all threads, default twice ``timeout_s``), ``RLIMIT_FSIZE``, no core dumps;
- FFmpeg limited to local files in the MP4/QuickTime and Matroska/WebM containers
  for OpenCV; PyAV (``prepare``) opens only the demuxer ``sniff`` chose, local files only;
- a wall-clock limit enforced by this process (kill, then reap), plus an alarm
  inside the child and death-with-parent in case this process dies first.

The child answers with one JSON object on stdout (never a pickle: the parent
must not run code a compromised decoder wrote); it is validated field by field.
A crash, a kill, a limit or an error becomes ``VideoError`` with a readable
reason and a ``kind``; nothing the child does can hang or end this process.

Typical use in a task::

    try:
        analysis = run_isolated(path, settings, timeout_s=60, memory_mb=1024)
    except VideoError as error:
        clip.mark_failed(error.reason)
"""

import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from . import reasons
from .results import (
    MEMORY_WORDS,
    UNDECODABLE,
    Analysis,
    ClipInfo,
    MotionSettings,
    Prepared,
    VideoError,
    clip_info_from_json,
)

__all__ = ["prepare_isolated", "probe_isolated", "run_isolated"]

logger = logging.getLogger("nvr.recordings.isolate")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MAX_ANSWER_BYTES = 8 * 1024 * 1024
STDERR_TAIL_BYTES = 4096
OUTPUT_FILE_MB = 16  # what an analysis may write (its answer on stdout, and stderr)
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGTRAP}


def run_isolated(
    path: str | os.PathLike[str],
    settings: MotionSettings | None = None,
    *,
    timeout_s: float = 60,
    memory_mb: int = 1024,
    cpu_s: float | None = None,
    _hook: str | None = None,
) -> Analysis:
    """``motion.analyse(path, settings)`` in a limited child process.

    Raises ``VideoError`` for a file that is not a usable clip, and when the
    child takes longer than ``timeout_s`` seconds, uses more than ``cpu_s`` CPU
    seconds, more than ``memory_mb`` MB of address space, or crashes.
    ``_hook`` (tests only) is a ``"module:function"`` run in the child instead
    of ``analyse``, with the same arguments.
    """
    settings = settings or MotionSettings()
    answer = _run_child(
        {"op": "analyse", "path": _absolute(path), "settings": settings.to_json(), "hook": _hook},
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        cpu_s=cpu_s,
    )
    try:
        return Analysis.from_json(answer)
    except (ValueError, KeyError, TypeError) as error:
        raise VideoError(reasons.ANALYSIS_MALFORMED, "error") from error


def probe_isolated(
    path: str | os.PathLike[str], *, timeout_s: float = 30, memory_mb: int = 1024, cpu_s: float | None = None
) -> ClipInfo:
    """``probe.probe(path)`` in a limited child process (see ``run_isolated``)."""
    answer = _run_child({"op": "probe", "path": _absolute(path)}, timeout_s=timeout_s, memory_mb=memory_mb, cpu_s=cpu_s)
    try:
        return clip_info_from_json(answer)
    except (ValueError, KeyError, TypeError) as error:
        raise VideoError(reasons.PROBE_MALFORMED, "error") from error


def prepare_isolated(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    timeout_s: float = 120,
    memory_mb: int = 1024,
    cpu_s: float | None = None,
) -> Prepared:
    """``containers.prepare(src, dst)`` in a limited child process (see ``run_isolated``).

    The child may write a file up to twice ``src``'s size plus 64 MB.
    """
    if not os.path.isfile(src):
        raise VideoError(reasons.NO_FILE)
    answer = _run_child(
        {"op": "prepare", "path": _absolute(src), "dst": _absolute(dst)},
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        cpu_s=cpu_s,
        file_mb=math.ceil(2 * os.path.getsize(src) / (1024 * 1024)) + 64,
    )
    try:
        return Prepared.from_json(answer)
    except (ValueError, KeyError, TypeError) as error:
        raise VideoError(reasons.CHECK_MALFORMED, "error") from error


def _absolute(path: str | os.PathLike[str]) -> str:
    return os.fspath(Path(path).resolve())


def child_environment() -> dict[str, str]:
    """What the child inherits: enough to find Python and the project, none of the caller's secrets."""
    python_path = [os.fspath(PROJECT_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(python_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MALLOC_ARENA_MAX": "2",  # each thread's arena would otherwise reserve 64 MB of address space
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    for name in ("PYTHONHOME", "LD_LIBRARY_PATH", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _run_child(
    request: dict[str, Any], *, timeout_s: float, memory_mb: int, cpu_s: float | None, file_mb: int = OUTPUT_FILE_MB
) -> Any:
    if timeout_s <= 0 or memory_mb <= 0:
        raise ValueError("timeout_s and memory_mb must be positive")
    cpu_limit = cpu_s if cpu_s is not None else 2 * timeout_s
    request["limits"] = {"memory_mb": memory_mb, "cpu_s": cpu_limit, "wall_s": timeout_s + 5, "file_mb": file_mb}
    command = [sys.executable, "-s", "-m", "recordings.video.worker", json.dumps(request)]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our module; the request is JSON
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=child_environment(),
            cwd=PROJECT_ROOT,
            close_fds=True,
        )
        try:
            status = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise VideoError(reasons.TIMEOUT, "timeout", seconds=f"{timeout_s:g}") from None
        except BaseException:  # interrupted (KeyboardInterrupt, a task's soft time limit): never leave it running
            process.kill()
            process.wait()
            raise
        answer = _read(stdout, MAX_ANSWER_BYTES)
        errors = _tail(stderr, STDERR_TAIL_BYTES)
    return _interpret(status, answer, errors, timeout_s=timeout_s, cpu_s=cpu_limit, memory_mb=memory_mb)


def _read(file: IO[bytes], limit: int) -> bytes:
    file.seek(0)
    return file.read(limit + 1)


def _tail(file: IO[bytes], limit: int) -> str:
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - limit))
    return file.read().decode("utf-8", "replace")


def _interpret(status: int, answer: bytes, errors: str, *, timeout_s: float, cpu_s: float, memory_mb: int) -> Any:
    memory = {"megabytes": str(memory_mb)}
    if status < 0:
        number = -status
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGXCPU:
            raise VideoError(reasons.CPU_TIME, "timeout", seconds=f"{cpu_s:g}")
        if number == signal.SIGALRM:
            raise VideoError(reasons.TIMEOUT, "timeout", seconds=f"{timeout_s:g}")
        if number == signal.SIGXFSZ:
            raise VideoError(reasons.TOO_MUCH_OUTPUT, "error")
        if any(word in errors for word in MEMORY_WORDS):
            raise VideoError(reasons.NEEDS_MEMORY_MB, "memory", **memory)
        logger.warning("clip worker ended by %s", name)
        if number in CRASH_SIGNALS:
            raise VideoError(reasons.DECODER_CRASHED, "crash")
        raise VideoError(reasons.ANALYSIS_STOPPED, "crash")
    if len(answer) > MAX_ANSWER_BYTES:
        raise VideoError(reasons.ANSWER_TOO_LARGE, "error")
    try:
        outcome = json.loads(answer) if answer else None
    except ValueError:
        outcome = None
    if not isinstance(outcome, dict) or not isinstance(outcome.get("ok"), bool):
        if any(word in errors for word in MEMORY_WORDS):
            raise VideoError(reasons.NEEDS_MEMORY_MB, "memory", **memory)
        last_line = errors.strip().splitlines()[-1][:200] if errors.strip() else f"exit status {status}"
        logger.warning("clip worker gave no answer: %s", last_line)
        raise VideoError(UNDECODABLE, "error")
    if outcome["ok"]:
        return outcome.get("result")
    kind = outcome.get("kind")
    reason = outcome.get("reason")
    if kind == "memory":
        raise VideoError(reasons.NEEDS_MEMORY_MB, "memory", **memory)
    if not isinstance(reason, str) or not isinstance(kind, str):
        raise VideoError(UNDECODABLE, "error")
    # The reason comes from our own code in the child; still, keep it to one readable line.
    reason = " ".join(reason.split())[:500]
    raise VideoError(reason, kind if kind in {"invalid", "timeout", "crash", "error"} else "error")

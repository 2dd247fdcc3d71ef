"""The isolated decoding process: ``python -m recordings.video.worker REQUEST_JSON``.

Started by ``isolate.py``, one process per job; never run it by hand on a file
you care about. Before importing OpenCV it limits itself (address space, CPU
seconds, size of files it writes, no core dumps, an alarm past the wall-clock
limit in case its parent is gone, death with its parent), keeps FFmpeg to local
files in the expected containers, and moves its stdout aside so that nothing a
library prints can be taken for the answer. It prints exactly one JSON object on
the original stdout:

- ``{"ok": true, "result": ...}``;
- ``{"ok": false, "kind": "invalid" | "memory" | "error", "reason": "..."}``.

A crash (segfault, abort) or a kill prints nothing; the parent reads the exit status.

The request: ``{"op": "analyse" | "probe" | "prepare", "path": ..., "dst": ...,
"settings": {...}, "limits": {"memory_mb": ..., "cpu_s": ..., "wall_s": ...,
"file_mb": ...}, "hook": "module:function" (tests only)}``.
"""

import ctypes
import importlib
import json
import math
import os
import resource
import signal
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from . import reasons
from .results import MEMORY_WORDS, UNDECODABLE, MotionSettings, VideoError

PR_SET_PDEATHSIG = 1
# FFmpeg reports a failed allocation as a decoding error ("decode_slice_header error"): a failure
# while the address space peaked this close to the limit is counted as memory.
MEMORY_MARGIN_MB = 48


def apply_limits(limits: dict[str, Any]) -> None:
    """Limit this process; each limit is optional."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("memory_mb"):
        size = int(limits["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    if limits.get("cpu_s"):
        seconds = math.ceil(float(limits["cpu_s"]))
        # The soft limit sends SIGXCPU (which ends the process); the hard one SIGKILL, a little later.
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 2))
    if limits.get("file_mb"):
        size = int(limits["file_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    if limits.get("wall_s"):
        # SIGALRM's default action ends the process even inside C code: the backstop if the parent is gone.
        signal.alarm(math.ceil(float(limits["wall_s"])))
    _die_with_parent()


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not glibc/musl
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _resolve(hook: str) -> Callable[..., Any]:
    module_name, _, function_name = hook.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module_name), function_name)
    return function


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Do the job and describe the outcome (what ``main`` prints)."""
    op = request["op"]
    path = request["path"]
    try:
        if request.get("hook"):
            result: Any = _resolve(request["hook"])(path, MotionSettings.from_json(request["settings"]))
            return {"ok": True, "result": result.to_json()}
        if op == "analyse":
            from .motion import analyse

            return {"ok": True, "result": analyse(path, MotionSettings.from_json(request["settings"])).to_json()}
        if op == "probe":
            from .probe import probe

            return {"ok": True, "result": asdict(probe(path))}
        if op == "prepare":
            from .containers import prepare

            return {"ok": True, "result": prepare(path, request["dst"]).to_json()}
        return {"ok": False, "kind": "error", "reason": f"unknown operation {op!r}"}
    except VideoError as error:
        return {"ok": False, "kind": error.kind, "reason": str(error)}
    except MemoryError:
        return {"ok": False, "kind": "memory", "reason": reasons.NEEDS_MEMORY}
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        if any(word in message for word in MEMORY_WORDS):
            return {"ok": False, "kind": "memory", "reason": reasons.NEEDS_MEMORY}
        # The library's message (paths, bytes of the file) is for the operator's log, not the household.
        print(f"clip worker: {message[:1000]}", file=sys.stderr)
        return {"ok": False, "kind": "invalid", "reason": UNDECODABLE}


def near_memory_limit(memory_mb: int) -> bool:
    """Whether this process's peak address space came within ``MEMORY_MARGIN_MB`` of ``memory_mb``."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) // 1024 >= memory_mb - MEMORY_MARGIN_MB
    except (OSError, ValueError):
        pass
    return False


def main(argv: list[str]) -> int:
    request = json.loads(argv[1])
    # Our answer goes to a private copy of stdout; fd 1 now points at stderr.
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    apply_limits(request.get("limits", {}))
    from .probe import CAPTURE_OPTIONS_VARIABLE, SAFE_CAPTURE_OPTIONS  # OpenCV loads within the limits

    os.environ[CAPTURE_OPTIONS_VARIABLE] = SAFE_CAPTURE_OPTIONS
    outcome = run(request)
    memory_mb = request.get("limits", {}).get("memory_mb")
    if not outcome["ok"] and outcome["kind"] == "invalid" and memory_mb and near_memory_limit(int(memory_mb)):
        outcome = {"ok": False, "kind": "memory", "reason": reasons.NEEDS_MEMORY}
    answer.write(json.dumps(outcome))
    answer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

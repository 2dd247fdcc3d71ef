"""Profile daphne in a ``live_fanout.py`` run: cProfile from start-up to exit, daphne only.

Python imports ``sitecustomize`` at start-up from the path, so this folder on
daphne's ``PYTHONPATH`` turns profiling on in that process (the bench's other
children, which get the same environment, are left alone)::

    .venv/bin/python bench/live_fanout.py --path h264 --viewers 50 --no-sustained --reader-seconds 0 \
        --server-env PYTHONPATH=bench/profile:. --server-env PROFILE_OUT=bench/results/daphne-h264.prof

daphne runs in the repository's folder, so the relative paths hold. The profile is
written when daphne exits (the bench stops it with SIGTERM at the end); read it
with ``pstats``. It covers start-up, connections and warm-up too, and cProfile
slows the Python code down: compare shares, not times.
"""

import atexit
import cProfile
import os
import sys

if os.environ.get("PROFILE_OUT") and any("daphne" in part for part in sys.orig_argv):
    _profile = cProfile.Profile()
    _profile.enable()

    def _dump() -> None:
        _profile.disable()
        _profile.dump_stats(os.environ["PROFILE_OUT"])

    atexit.register(_dump)

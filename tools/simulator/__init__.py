"""Simulated push cameras, as ``manage.py simulate_camera`` and ``bin/demo`` run them.

- ``stream``: the street scene and its live stream (H.264 or JPEG) to the device websocket;
- ``h264``: the live stream's H.264 encoder (one access unit a frame) and a solid-colour stream for tests;
- ``clips``: short H.264 clips of the scene, uploaded through the upload API;
- ``run``: several cameras at once, each streaming and uploading.
"""

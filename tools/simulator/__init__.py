"""Simulated push cameras, as ``manage.py simulate_camera`` and ``bin/demo`` run them.

- ``stream``: the street scene and its live JPEG stream to the device websocket;
- ``clips``: short H.264 clips of the scene, uploaded through the upload API;
- ``run``: several cameras at once, each streaming and uploading.
"""

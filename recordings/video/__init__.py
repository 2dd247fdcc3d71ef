"""Clip processing: pure, typed functions over files, no Django.

- ``results``: the values (``ClipInfo``, ``MotionSettings``, ``MotionEvent``,
  ``Analysis``) and ``VideoError``; no OpenCV, JSON in and out.
- ``sniff``: what a file is, from its first bytes (pure Python, no decoder).
- ``containers``: ``prepare``, MP4 kept or index moved first, MPEG-TS and
  Matroska remuxed to MP4, WebM kept, anything else refused; whether a browser
  plays the video.
- ``probe``: duration, frame rate, size, codec, with limits checked before decoding.
- ``motion``: ``analyse``, one pass of motion analysis and the poster.
- ``faststart``: ``moov_before_mdat``, ``ensure_faststart`` (remux, no re-encode).
- ``isolate``: ``run_isolated`` and friends, the above in a limited child
  process (``worker``); the only entry points to use on uploaded files.

Importing this package loads nothing heavy; ``probe`` and ``motion`` load OpenCV,
``faststart`` and ``containers`` load PyAV.
"""

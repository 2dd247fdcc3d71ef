"""Development tooling: simulated cameras, test helpers.

Nothing here runs in the server. The apps (``accounts``, ``devices``,
``recordings``, ``support``, ``nvr``) never import ``tools``; only their tests
and thin management commands (``manage.py simulate_camera``) do, and
``nvr/tests/test_layout.py`` checks it. ``tools`` may import the apps.

- ``simulator``: push cameras that stream a moving scene and upload clips;
- ``upload_testing``: upload API requests through Django's test client;
- ``synth``: synthetic and hostile video clips for tests and benchmarks.
"""

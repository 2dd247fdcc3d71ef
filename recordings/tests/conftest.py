import pytest

from conftest import World
from tools.upload_testing import remove_partial_files


@pytest.fixture(autouse=True)
def _no_partial_files():
    """Tests roll back their rows, not their files: each starts and ends without partial uploads."""
    remove_partial_files()
    yield
    remove_partial_files()


@pytest.fixture
def world(world_with_clips: World) -> World:
    """Recordings' tests are about clips: each household has its two."""
    return world_with_clips


@pytest.fixture
def uploads_commit(commit_each_request: None, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each tus request's on-commit work runs as it ends (partial files removed, running
    hashes kept), as after a real commit; the processing it would enqueue is only noted."""
    from recordings.tasks import process_recording

    enqueued: list[tuple[str, str]] = []
    monkeypatch.setattr(process_recording, "delay", lambda *args: enqueued.append(args))
    return enqueued

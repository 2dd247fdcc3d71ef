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

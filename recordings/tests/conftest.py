import pytest

from tools.upload_testing import remove_partial_files


@pytest.fixture(autouse=True)
def _no_partial_files():
    """Tests roll back their rows, not their files: each starts and ends without partial uploads."""
    remove_partial_files()
    yield
    remove_partial_files()

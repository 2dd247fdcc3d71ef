"""The one mapping from an upload service's refusal to its tus status."""

import pytest

from recordings.upload import errors
from recordings.upload.views import as_tus_error

KINDS = [kind for kind in vars(errors).values() if isinstance(kind, type) and issubclass(kind, errors.UploadError)]


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind is not errors.UploadError], ids=lambda k: k.__name__)
def test_every_kind_of_refusal_has_its_status(kind: type[errors.UploadError]):
    tus = as_tus_error(kind("why"))
    assert (tus.detail, tus.status != 500 or kind is errors.PublishFailed) == ("why", True)


def test_an_unmapped_refusal_is_a_server_error():
    class Unknown(errors.UploadError):
        pass

    assert as_tus_error(Unknown("?")).status == 500
    assert as_tus_error(type("Late", (errors.UploadNotFound,), {})("gone")).status == 404


@pytest.mark.parametrize(
    ("kind", "status"),
    [(errors.LargerThanQuota, 413), (errors.TooManyOpenUploads, 429), (errors.InFlightLimit, 507)],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_the_limits_have_their_documented_statuses(kind: type[errors.UploadError], status: int):
    """README, Recordings: 413 larger than the quota, 429 too many open uploads, 507 too much in flight."""
    assert as_tus_error(kind("why")).status == status

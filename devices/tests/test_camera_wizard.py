"""Adding a camera as a homeowner: brand presets, the form's errors, "Test connection",
and the push camera's page of addresses.

Traffic goes only to 127.0.0.1: refused addresses are refused before any connection
(the reader is made to fail the test if it starts), and the one stream read is the RTSP
test server's.
"""

import ipaddress
from urllib.parse import unquote, urlsplit

import pytest

from devices.addresses import check_address
from devices.ingest.redaction import redact
from devices.presets import PRESETS, Stream, build_address, clean_host

PASSWORD = "p@ss:w/rd?#%-secret"


# --- Presets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "channel", "stream", "tail"),
    [
        ("hikvision", 1, Stream.MAIN, ":554/Streaming/Channels/101"),
        ("hikvision", 1, Stream.SUB, ":554/Streaming/Channels/102"),
        ("hikvision", 3, Stream.MAIN, ":554/Streaming/Channels/301"),
        ("hikvision", 12, Stream.SUB, ":554/Streaming/Channels/1202"),
        ("dahua", 1, Stream.MAIN, ":554/cam/realmonitor?channel=1&subtype=0"),
        ("dahua", 4, Stream.SUB, ":554/cam/realmonitor?channel=4&subtype=1"),
        ("reolink", 1, Stream.MAIN, ":554/h264Preview_01_main"),
        ("reolink", 3, Stream.SUB, ":554/h264Preview_03_sub"),
        ("reolink", 12, Stream.MAIN, ":554/h264Preview_12_main"),
        ("axis", 2, Stream.MAIN, ":554/axis-media/media.amp?camera=2"),
        ("uniview", 2, Stream.SUB, ":554/unicast/c2/s1/live"),
        ("tapo", 1, Stream.MAIN, ":554/stream1"),
        ("tapo", 5, Stream.SUB, ":554/stream2"),  # one stream per camera: the channel is ignored
        ("foscam", 1, Stream.MAIN, ":88/videoMain"),
        ("foscam", 1, Stream.SUB, ":88/videoSub"),
    ],
)
def test_each_brand_builds_its_address(key, channel, stream, tail):
    url = build_address(
        preset=PRESETS[key], host="192.168.1.64", port=None, user="admin", password="pw", channel=channel, stream=stream
    )
    assert url == f"rtsp://admin:pw@192.168.1.64{tail}"


def test_a_user_name_and_password_with_at_colon_and_slash_are_quoted():
    url = build_address(
        preset=PRESETS["hikvision"],
        host="192.0.2.10",
        port=8554,
        user="ad:min@home",
        password=PASSWORD,
        channel=1,
        stream=Stream.MAIN,
    )
    assert url == "rtsp://ad%3Amin%40home:p%40ss%3Aw%2Frd%3F%23%25-secret@192.0.2.10:8554/Streaming/Channels/101"
    parts = urlsplit(url)
    assert (parts.hostname, parts.port, parts.path) == ("192.0.2.10", 8554, "/Streaming/Channels/101")
    assert (unquote(parts.username or ""), unquote(parts.password or "")) == ("ad:min@home", PASSWORD)
    # The address check and the redaction read the same host, and keep no secret.
    checked = check_address(url, allowed=[ipaddress.ip_network("192.0.2.0/24")])
    assert (checked.ip, checked.port) == ("192.0.2.10", 8554)
    assert redact(url) == "rtsp://192.0.2.10:8554/Streaming/Channels/101"


def test_hosts_are_an_address_or_a_name_nothing_more():
    assert clean_host(" 192.168.1.64 ") == "192.168.1.64"
    assert clean_host("fe80::1") == clean_host("[fe80::1]") == "[fe80::1]"
    assert clean_host("Camera-1.local.") == "Camera-1.local"
    for bad in ("rtsp://192.168.1.64/", "admin@192.168.1.64", "192.168.1.64/stream", "cam era", "-cam", "", "a..b"):
        with pytest.raises(ValueError, match="Enter"):
            clean_host(bad)

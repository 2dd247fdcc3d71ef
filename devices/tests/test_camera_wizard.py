"""Adding a camera as a homeowner: brand presets, the form's errors, "Test connection",
and the push camera's page of addresses.

Traffic goes only to 127.0.0.1: refused addresses are refused before any connection
(the reader is made to fail the test if it starts), and the one stream read is the RTSP
test server's.
"""

import ipaddress
import re
from urllib.parse import unquote, urlsplit

import pytest
from django.urls import reverse

from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.addresses import check_address
from devices.ingest.redaction import redact
from devices.models import Camera
from devices.presets import PRESETS, Stream, build_address, clean_host
from devices.services import camera_source_url

ADD = reverse("devices:camera-add")
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


# --- The form --------------------------------------------------------------------------


def fields(**values: object) -> dict[str, object]:
    return {"name": "Driveway", "kind": "pull", "preset": "hikvision", "channel": "1", "stream": "main", **values}


def test_the_wizard_saves_the_address_it_built(world: World, settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    form = fields(host="192.0.2.10", camera_user="admin", camera_password=PASSWORD, channel="2", stream="sub")
    response = client_for(world.a.member).post(ADD, form)
    assert response.status_code == 302
    with account_scope(world.a.account.pk):
        camera = Camera.objects.get(name="Driveway")
    assert response["Location"] == reverse("devices:camera", args=[camera.pk])
    assert (
        camera_source_url(camera)
        == "rtsp://admin:p%40ss%3Aw%2Frd%3F%23%25-secret@192.0.2.10:554/Streaming/Channels/202"
    )


def test_missing_fields_get_readable_errors_and_a_400(world: World):
    client = client_for(world.a.owner)
    response = client.post(ADD, fields(name="", host="", camera_password=PASSWORD))
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body  # the name
    assert "Enter the camera&#x27;s address" in body
    assert "Enter the user name that goes with the password." in body
    assert "p@ss" not in body  # never rendered back
    bad = client.post(ADD, fields(host="rtsp://192.168.1.64/stream", port="99999", channel="0"))
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "choose Other to type a full address" in text
    assert "less than or equal to 65535" in text
    assert "greater than or equal to 1" in text
    no_brand = client.post(ADD, fields(preset=""))
    assert no_brand.status_code == 400
    assert "choose its brand and fill in its address, or choose Other" in no_brand.content.decode()
    other = client.post(ADD, fields(preset="other"))
    assert other.status_code == 400
    assert "choose Other and type the full address" in other.content.decode()
    with account_scope(world.a.account.pk):
        assert not Camera.objects.filter(name="Driveway").exists()


def test_the_add_page_lays_out_its_choices_and_needs_no_inline_script(world: World):
    body = client_for(world.a.owner).get(ADD).content.decode()
    # Every field is in the page (it works without JavaScript), each radio inside its label.
    for name in ("name", "preset", "host", "port", "camera_user", "camera_password", "channel", "source_url"):
        assert f'name="{name}"' in body, name
    assert re.search(r'<label for="id_kind_0"><input type="radio" name="kind" value="pull"[^>]*> <span>', body)
    assert "The camera sends its video here" in body
    assert "This site reads the camera&#x27;s stream (RTSP)" in body
    assert 'id="camera-presets" type="application/json"' in body
    assert "/static/js/camera-add.js" in body

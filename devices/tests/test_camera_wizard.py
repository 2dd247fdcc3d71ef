"""Adding a camera as a homeowner: brand presets, the form's errors, "Test connection",
and the push camera's page of addresses.

Traffic goes only to 127.0.0.1: refused addresses are refused before any connection
(the reader is made to fail the test if it starts), and the one stream read is the RTSP
test server's.
"""

import base64
import ipaddress
import re
import socket
import time
from urllib.parse import quote, unquote, urlsplit

import cv2
import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from accounts.tenancy import account_scope
from conftest import RTSP_PASSWORD, RTSP_USER, World, client_for
from devices.addresses import BAD_FORM, NOT_ALLOWED, check_address
from devices.ingest.reader import Outcome, StreamReader
from devices.ingest.redaction import redact
from devices.models import Camera
from devices.presets import PRESETS, Stream, build_address, clean_host
from devices.probe import NO_PICTURE, WORDS
from devices.services import camera_source_url

TEST = reverse("devices:camera-test")
ADD = reverse("devices:camera-add")
PASSWORD = "p@ss:w/rd?#%-secret"
QUOTED = quote(PASSWORD, safe="")


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


# --- Test connection -------------------------------------------------------------------


@pytest.fixture
def no_connection(monkeypatch):
    """Fails the test if a stream reader starts: the answer must come before any connection."""

    async def refuse(self: StreamReader) -> None:
        raise AssertionError(f"the reader was started for {self.where}")

    monkeypatch.setattr(StreamReader, "start", refuse)


def test_only_owners_and_members_test_cameras(world: World, no_connection, settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    form = fields(host="192.168.1.64")
    viewer = client_for(world.a.viewer).post(TEST, form)
    assert viewer.status_code == 403
    anonymous = Client().post(TEST, form)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    assert client_for(world.a.owner).get(TEST).status_code == 405
    assert client_for(world.a.member).post(TEST, form).status_code == 200


def test_it_needs_the_csrf_token(world: World, no_connection, settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.a.owner)
    assert client.post(TEST, fields(host="192.168.1.64")).status_code == 403
    client.get(ADD)  # sets the CSRF cookie, as the page does for its script
    token = client.cookies["csrftoken"].value
    assert client.post(TEST, fields(host="192.168.1.64", csrfmiddlewaretoken=token)).status_code == 200


@pytest.mark.parametrize(
    ("preset", "address", "allowed", "words"),
    [
        ("hikvision", "192.168.1.64", [], NOT_ALLOWED),  # a home network the operator did not allow
        ("other", f"rtsp://admin:{QUOTED}@10.0.0.5:554/stream", [], NOT_ALLOWED),
        ("other", "rtsp://admin:pw@169.254.169.254/latest", ["169.254.0.0/16"], NOT_ALLOWED),  # metadata: never
        ("other", f"rtsp://admin:{PASSWORD}@10.0.0.5:554/stream", [], BAD_FORM),  # "/" unquoted: no host
        ("other", "file:///etc/passwd", [], BAD_FORM),
    ],
)
def test_a_refused_address_answers_in_plain_words_without_connecting(
    world: World, no_connection, settings, caplog, preset, address, allowed, words
):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = allowed
    form = fields(preset=preset, host=address, camera_user="admin", camera_password=PASSWORD)
    if preset == "other":
        form = fields(preset="other", source_url=address)
    response = client_for(world.a.owner).post(TEST, form)
    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "outcome": "not_allowed",
        "message": words,
        "codec": "",
        "width": 0,
        "height": 0,
        "snapshot": None,
    }
    for secret in (PASSWORD, QUOTED, "secret"):
        assert secret not in response.content.decode()
        assert secret not in caplog.text


def test_form_errors_answer_400_with_each_fields_words(world: World, no_connection):
    response = client_for(world.a.owner).post(TEST, {"preset": "reolink", "host": "", "channel": "x"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["host"] == ["Enter the camera's address: its IP address or name, like 192.168.1.64."]
    assert errors["channel"] == ["Enter a whole number."]


def test_a_closed_port_is_unreachable(world: World):
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))  # bound, not listening: the connection is refused
        port = bound.getsockname()[1]
        started = time.monotonic()
        form = fields(host="127.0.0.1", port=str(port), camera_user="admin", camera_password=PASSWORD)
        response = client_for(world.a.owner).post(TEST, form)
    assert time.monotonic() - started < 10
    answer = response.json()
    assert (answer["ok"], answer["outcome"]) == (False, Outcome.UNREACHABLE)
    assert answer["message"] == WORDS[Outcome.UNREACHABLE]
    assert "Cannot reach the camera" in answer["message"]
    assert "p%40ss" not in response.content.decode()
    assert "p@ss" not in response.content.decode()


def test_each_person_may_test_a_few_times_in_a_window(world: World, no_connection, settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    settings.NVR_CAMERA_TESTS_PER_USER = 2
    owner = client_for(world.a.owner)
    form = fields(host="192.168.1.64")
    assert [owner.post(TEST, form).status_code for _ in range(2)] == [200, 200]
    refused = owner.post(TEST, form)
    assert refused.status_code == 429
    assert refused.json()["outcome"] == "throttled"
    assert "wait a few minutes" in refused.json()["message"]
    # Another person is not held back by the owner's tests; the owner stays refused.
    assert client_for(world.a.member).post(TEST, form).status_code == 200
    assert owner.post(TEST, form).status_code == 429


def test_it_reads_the_rtsp_test_servers_stream_and_tells_a_wrong_password(world: World, rtsp_server):
    """The one stream read: a picture, its codec and size; then the same camera with a wrong password."""
    owner = client_for(world.a.owner)
    good = owner.post(TEST, fields(preset="other", source_url=rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)))
    answer = good.json()
    assert (answer["ok"], answer["outcome"], answer["codec"]) == (True, "picture", "h264")
    assert (answer["width"], answer["height"]) == (640, 360)
    assert answer["message"] == "The camera works: h264, 640x360."
    jpeg = base64.b64decode(answer["snapshot"])
    assert jpeg[:3] == b"\xff\xd8\xff"
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    assert picture.shape[:2] == (360, 640)
    assert RTSP_PASSWORD not in good.content.decode()

    wrong = owner.post(TEST, fields(preset="other", source_url=rtsp_server.url(user=RTSP_USER, password=QUOTED)))
    answer = wrong.json()
    assert (answer["ok"], answer["outcome"], answer["message"]) == (False, "credentials", WORDS[Outcome.CREDENTIALS])
    assert answer["message"] == "The camera refused the user name or password."
    assert answer["snapshot"] is None
    assert "p%40ss" not in wrong.content.decode()
    assert "p@ss" not in wrong.content.decode()
    assert str(NO_PICTURE).split(":")[0] not in (good.content.decode() + wrong.content.decode())


# --- A push camera's addresses -----------------------------------------------------------


@pytest.mark.parametrize(("secure", "ws", "http"), [(False, "ws", "http"), (True, "wss", "https")])
def test_the_token_page_gives_the_addresses_as_the_site_was_reached(world: World, secure, ws, http):
    response = client_for(world.a.owner).post(ADD, {"name": "Gate", "kind": "push"}, secure=secure)
    assert response.status_code == 200
    body = response.content.decode()
    token = response.context["token"]
    assert f'<pre class="token" id="device-token" data-testid="device-token">{token}</pre>' in body
    assert f'id="device-socket-url" data-testid="device-socket-url">{ws}://testserver/ws/device/</code>' in body
    upload = f"{http}://testserver{reverse('recordings-upload:upload-create')}"
    assert f'id="endpoint-upload" data-testid="endpoint-upload">{upload}</code>' in body
    for target in ("device-token", "device-socket-url", "endpoint-upload"):
        assert f'data-copy="{target}" hidden>Copy</button>' in body
    assert "shown only once" in body
    assert "simulate_camera --token" in body
    assert "README.md#device-protocol" in body
    assert "/static/js/copy.js" in body

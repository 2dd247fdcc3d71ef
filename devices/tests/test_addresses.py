"""Camera addresses: refused when they reach the server's own networks, however spelt.

Literal spellings go through the real ``socket.getaddrinfo`` (it parses them without
a lookup, the way a connection would); names use a fake resolver. Nothing here
connects anywhere.
"""

import ipaddress
import socket

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import account_scope
from conftest import client_for
from devices.addresses import BAD_FORM, NOT_ALLOWED, AddressNotAllowed, check_address
from devices.models import Camera, CameraKind
from devices.services import camera_create

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"
LOCAL = [ipaddress.ip_network("127.0.0.1/32")]


def resolver_of(*answers: str):
    """A getaddrinfo that answers every name with ``answers`` (or fails with none)."""

    def resolve(host, port, *args, **kwargs):
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers
        ]

    return resolve


LOCAL_SPELLINGS = [
    "127.0.0.1",
    "127.1",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "017700000001",  # octal
    "0177.0.0.1",
    "0x7f.1",
    "127.0.0.2",
    "0",
    "0.0.0.0",  # noqa: S104 - an address refused, not one bound to
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:7f00:0001]",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.20",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "169.254.169.254",  # cloud metadata
    "169.254.1.1",  # link-local
    "[fe80::1]",
    "[fc00::1]",
    "[fd00:ec2::254]",  # AWS metadata over IPv6
    "224.0.0.1",  # multicast
    "[ff02::1]",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "[2001:db8::1]",
    "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
    "[2002:a00:1::1]",  # 6to4 of 10.0.0.1
    "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[2001:0:4136:e378:8000:63bf:f5ff:fffe]",  # Teredo of 10.0.0.1
]


@pytest.mark.parametrize("host", LOCAL_SPELLINGS)
@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_it_refuses_every_spelling_of_a_non_public_address(host, scheme):
    with pytest.raises(AddressNotAllowed) as refused:
        check_address(f"{scheme}://user:pw@{host}:8554/stream", allowed=())
    assert str(refused.value) == NOT_ALLOWED


@pytest.mark.parametrize("answers", [(PUBLIC_V4, "10.0.0.7"), ("::ffff:127.0.0.1",), (PUBLIC_V6, "fe80::1")])
def test_it_refuses_a_name_when_any_answer_is_not_public(answers):
    with pytest.raises(AddressNotAllowed, match=NOT_ALLOWED):
        check_address("rtsp://cam.example.com/s", allowed=(), resolver=resolver_of(*answers))


def test_it_says_the_same_whether_a_name_did_not_resolve_or_resolved_inside():
    """Otherwise saving an address would tell which internal names exist."""
    messages = set()
    for resolver in (resolver_of(), resolver_of("10.1.2.3"), resolver_of("169.254.169.254")):
        with pytest.raises(AddressNotAllowed) as refused:
            check_address("rtsp://db.internal.example/s", allowed=(), resolver=resolver)
        messages.add(str(refused.value))
    assert messages == {NOT_ALLOWED}


@pytest.mark.parametrize(
    ("url", "answer", "connect_url"),
    [
        ("rtsp://admin:p%40ss@cam.example.com/live?ch=1", PUBLIC_V4, f"rtsp://admin:p%40ss@{PUBLIC_V4}:554/live?ch=1"),
        ("rtsps://cam.example.com:7441/s#frag", PUBLIC_V4, f"rtsps://{PUBLIC_V4}:7441/s"),
        ("http://cam.example.com/video.mjpg", PUBLIC_V6, f"http://[{PUBLIC_V6}]:80/video.mjpg"),
        ("https://u:p@CAM.example.com/", PUBLIC_V4, f"https://u:p@{PUBLIC_V4}:443/"),
    ],
)
def test_it_allows_a_public_address_and_the_reader_connects_to_the_address_checked(url, answer, connect_url):
    checked = check_address(url, allowed=(), resolver=resolver_of(answer))
    assert checked.connect_url == connect_url
    assert checked.ip == answer
    assert checked.host == "cam.example.com"
    assert "p%40ss" not in repr(checked)


def test_the_allowlist_permits_the_networks_listed_and_nothing_else():
    assert check_address("rtsp://127.0.0.1:8554/cam", allowed=LOCAL).ip == "127.0.0.1"
    assert check_address("rtsp://127.1:8554/cam", allowed=LOCAL).connect_url == "rtsp://127.0.0.1:8554/cam"
    # The same address spelt as IPv4-mapped IPv6 is the same address.
    assert check_address("rtsp://[::ffff:127.0.0.1]:8554/cam", allowed=LOCAL).ip == "127.0.0.1"
    for host in ("127.0.0.2", "[::1]", "10.0.0.1"):
        with pytest.raises(AddressNotAllowed):
            check_address(f"rtsp://{host}:8554/cam", allowed=LOCAL)


def test_the_default_allowlist_is_empty_and_comes_from_the_setting(settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    with pytest.raises(AddressNotAllowed):
        check_address("rtsp://127.0.0.1:8554/cam")
    settings.NVR_CAMERA_ALLOWED_NETWORKS = ["192.168.1.0/24"]
    assert check_address("rtsp://192.168.1.20/cam").ip == "192.168.1.20"


@pytest.mark.parametrize(
    ("host", "network"),
    [("169.254.169.254", "169.254.0.0/16"), ("[fd00:ec2::254]", "fc00::/7"), ("100.100.100.200", "100.64.0.0/10")],
)
def test_cloud_metadata_stays_refused_even_inside_an_allowed_network(host, network):
    with pytest.raises(AddressNotAllowed):
        check_address(f"http://{host}/latest/meta-data/", allowed=[ipaddress.ip_network(network)])


@pytest.mark.parametrize(
    "url",
    [
        "ftp://cam.example.com/x",
        "file:///etc/passwd",
        "rtmp://cam.example.com/live",
        "rtsp:///nohost",
        "rtsp://cam example.com/x",
        "rtsp://cam.example.com/x\r\nHost: evil",
        "rtsp://cam.example.com:99999/x",
        "rtsp://[fe80::1%25eth0]/x",
        "rtsp://cam.example.com\\@127.0.0.1/x",
        "cam.example.com/x",
    ],
)
def test_it_refuses_other_protocols_and_malformed_addresses(url):
    with pytest.raises(AddressNotAllowed) as refused:
        check_address(url, allowed=LOCAL, resolver=resolver_of(PUBLIC_V4))
    assert str(refused.value) == BAD_FORM


def test_the_host_ffmpeg_finds_is_the_one_checked_even_with_an_at_sign_in_the_password():
    # FFmpeg, like urlsplit, takes the host after the last "@" before the path.
    checked = check_address("rtsp://user:p@ss@cam.example.com/s", allowed=(), resolver=resolver_of(PUBLIC_V4))
    assert checked.connect_url == f"rtsp://user:p@ss@{PUBLIC_V4}:554/s"


# --- Saving an address: the form and the API -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["rtsp://127.0.0.1:6379/", "http://169.254.169.254/latest/", "rtsp://[::1]:22/"])
def test_the_form_refuses_an_address_inside_the_server_network_readably(world, settings, url):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    client = client_for(world.a.owner)
    response = client.post(reverse("devices:camera-add"), {"name": "Probe", "kind": "pull", "source_url": url})
    assert response.status_code == 400
    assert NOT_ALLOWED in response.content.decode()
    with account_scope(world.a.account.pk):
        assert not Camera.objects.filter(name="Probe").exists()


@pytest.mark.django_db
def test_the_form_answers_the_same_for_a_name_that_does_not_resolve(world, settings, monkeypatch):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    client = client_for(world.a.owner)
    errors = []
    for answers in ((), ("10.0.0.5",)):
        monkeypatch.setattr("devices.addresses.socket.getaddrinfo", resolver_of(*answers))
        response = client.post(
            reverse("devices:camera-add"),
            {"name": "Probe", "kind": "pull", "source_url": "rtsp://nas.internal.example/"},
        )
        assert response.status_code == 400
        errors.append(response.context["form"].errors.get_json_data())
    assert errors[0] == errors[1] == {"source_url": [{"message": NOT_ALLOWED, "code": ""}]}


@pytest.mark.django_db
def test_the_api_refuses_an_address_inside_the_server_network_with_a_readable_400(world, settings):
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    client = client_for(world.a.owner)
    created = client.post(
        "/api/v1/cameras/",
        {"name": "Probe", "kind": "pull", "source_url": "rtsp://2130706433:6379/"},
        content_type="application/json",
    )
    assert created.status_code == 400
    assert created.json() == {"source_url": [NOT_ALLOWED]}

    settings.NVR_CAMERA_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with account_scope(world.a.account.pk):
        camera, _ = camera_create(
            actor=world.a.memberships[Role.OWNER], name="Yard", kind=CameraKind.PULL, source_url="rtsp://127.0.0.1/s"
        )
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []
    changed = client.patch(
        f"/api/v1/cameras/{camera.pk}/",
        {"source_url": "http://[::ffff:169.254.169.254]/"},
        content_type="application/json",
    )
    assert changed.status_code == 400
    assert changed.json() == {"source_url": [NOT_ALLOWED]}

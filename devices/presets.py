"""Camera brands: how each one spells its RTSP address, as data.

A homeowner knows their camera's brand, its address on the network, its user name
and password; not the path its firmware serves the stream on. ``build_address``
makes the ``rtsp://`` address from those fields on the server (the page's preview
uses the same templates, ``as_json``), so the services and their address check
receive a URL as they always did. "Other" takes a full address typed in.

A path template may name ``{channel}`` (1, 2, ... 12) and ``{channel2}`` (01, 02,
... 12); a brand without either has one stream per camera (the channel is ignored).
"""

import enum
import ipaddress
import re
from dataclasses import asdict, dataclass
from urllib.parse import quote

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

OTHER = "other"


class Stream(enum.StrEnum):
    MAIN = "main"
    SUB = "sub"


@dataclass(frozen=True)
class Preset:
    key: str
    label: str | Promise  # a brand's name, or "Other" (translated)
    port: int = 554
    main: str = ""  # the main stream's path (and query), from the host on
    sub: str = ""

    @property
    def uses_channel(self) -> bool:
        return "{channel" in self.main

    def path(self, *, channel: int, stream: Stream) -> str:
        template = self.main if stream == Stream.MAIN else self.sub
        return template.replace("{channel2}", f"{channel:02d}").replace("{channel}", str(channel))


PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (
        Preset("hikvision", "Hikvision", main="/Streaming/Channels/{channel}01", sub="/Streaming/Channels/{channel}02"),
        Preset(
            "dahua",
            "Dahua / Amcrest",
            main="/cam/realmonitor?channel={channel}&subtype=0",
            sub="/cam/realmonitor?channel={channel}&subtype=1",
        ),
        Preset("reolink", "Reolink", main="/h264Preview_{channel2}_main", sub="/h264Preview_{channel2}_sub"),
        Preset(
            "axis",
            "Axis",
            main="/axis-media/media.amp?camera={channel}",
            sub="/axis-media/media.amp?camera={channel}&resolution=640x480",
        ),
        Preset("uniview", "Uniview", main="/unicast/c{channel}/s0/live", sub="/unicast/c{channel}/s1/live"),
        Preset("tapo", "TP-Link Tapo", main="/stream1", sub="/stream2"),
        Preset("foscam", "Foscam", port=88, main="/videoMain", sub="/videoSub"),
        Preset(OTHER, gettext_lazy("Other (type the full address)")),
    )
}

MAX_CHANNEL = 256
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def preset_choices() -> list[tuple[str, str | Promise]]:
    return [(key, preset.label) for key, preset in PRESETS.items()]


def as_json() -> list[dict[str, object]]:
    """The presets for the page's script (a JSON data block: the preview of the address)."""
    return [
        {**asdict(preset), "label": str(preset.label), "uses_channel": preset.uses_channel}
        for preset in PRESETS.values()
    ]


def clean_host(value: str) -> str:
    """The host as it goes in the address (an IPv6 address in brackets), or ValueError
    with a sentence for the person who typed it."""
    host = value.strip()
    if "://" in host or "/" in host or "@" in host:
        raise ValueError(
            _("Enter only the camera's address (like 192.168.1.64), or choose Other to type a full address.")
        )
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        pass
    else:
        return f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    name = host.removesuffix(".")
    if not name or len(name) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in name.split(".")):
        raise ValueError(_("Enter an IP address or a host name, like 192.168.1.64 or camera.local."))
    return name


def build_address(
    *, preset: Preset, host: str, port: int | None, user: str, password: str, channel: int, stream: Stream
) -> str:
    """The camera's ``rtsp://`` address; the user name and password percent-quoted (so an
    ``@``, ``:`` or ``/`` in them cannot end the user part early). ValueError for a bad host."""
    if preset.key == OTHER:
        raise ValueError("The Other preset takes a full address, not fields.")
    if not 1 <= channel <= MAX_CHANNEL:
        raise ValueError(_("The channel is a number from 1 to %(max)d.") % {"max": MAX_CHANNEL})
    userinfo = ""
    if user:
        userinfo = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
    path = preset.path(channel=channel, stream=stream)
    return f"rtsp://{userinfo}{clean_host(host)}:{port or preset.port}{path}"

"""ASGI entry point: HTTP through Django, websockets through ``nvr.routing``."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nvr.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs apps loaded)

from nvr.close_codes import allow_server_close_codes  # noqa: E402
from nvr.routing import websocket_urlpatterns  # noqa: E402

allow_server_close_codes()  # 1013, try again later: devices/consumers.py

# Everything loaded so far lives as long as the process: moving it out of the
# collector's reach keeps full collections short (they stalled every live
# viewer for 55-75 ms at once; bench/README.md).
gc.freeze()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Each route brings its own authentication (see nvr/routing.py); consumers
        # authorise in connect() with the same scoped lookups the pages use.
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

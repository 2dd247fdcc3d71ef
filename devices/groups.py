"""Channel-layer group names for cameras (from server-side ids only), and how often members renew."""

import uuid

# Channel layers forget group members after a day: whoever stays in a group renews
# its membership this often (sockets in their re-check, the fan-out's feeds).
GROUP_RENEW_SECONDS = 3600


def live_group(camera_id: uuid.UUID) -> str:
    """Frames of one camera. Each process subscribes once, for all its viewers."""
    return f"live.{camera_id.hex}"


def camera_control_group(camera_id: uuid.UUID) -> str:
    """Every socket of a camera (viewers and the camera itself): closed on disable/delete."""
    return f"camera.{camera_id.hex}"


def device_control_group(camera_id: uuid.UUID) -> str:
    """The camera's own sockets: closed when its token is rotated or revoked."""
    return f"device.{camera_id.hex}"


def camera_viewer_group(membership_id: uuid.UUID, camera_id: uuid.UUID) -> str:
    """One person's live views of one camera: closed when an owner takes the camera from them."""
    return f"watch.{membership_id.hex}.{camera_id.hex}"


def device_token_group(token_id: uuid.UUID) -> str:
    """The sockets opened with one device token: a newer one closes the older (one per token)."""
    return f"token.{token_id.hex}"


def live_source_group(camera_id: uuid.UUID) -> str:
    """The camera's publisher (its device socket or pull worker): asked to replay its current
    group of pictures when a process subscribes to its frames."""
    return f"livesrc.{camera_id.hex}"

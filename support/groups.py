"""Channel-layer group of one grant's sockets: closed when the owner ends the grant."""

import uuid


def grant_group(grant_id: uuid.UUID) -> str:
    return f"support-grant.{grant_id.hex}"

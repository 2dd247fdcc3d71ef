"""Recording pull cameras: one recorder per camera at a time (``lease``)."""

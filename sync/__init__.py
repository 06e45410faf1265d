"""Both ends of the kiosk sync: the shared wire format, the device agent and the central server."""

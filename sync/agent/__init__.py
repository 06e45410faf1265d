"""The sync agent that runs on the kiosk: push, pull, health."""

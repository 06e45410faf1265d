"""One-stop counter kiosk: citizen satisfaction ratings and procedure guides."""

__version__ = "0.1.0"

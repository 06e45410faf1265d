"""The size of the screen the kiosk runs on, asked of SDL itself (the library Kivy draws with)."""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import logging
import os

log = logging.getLogger(__name__)


class _DisplayMode(ctypes.Structure):
    _fields_ = (("format", ctypes.c_uint32), ("w", ctypes.c_int), ("h", ctypes.c_int),
                ("refresh_rate", ctypes.c_int), ("driverdata", ctypes.c_void_p))


def _sdl_library() -> ctypes.CDLL | None:
    # The copy bundled with Kivy's wheel is the one already loaded and initialised; a system copy would be
    # a second, uninitialised SDL.
    import kivy

    bundled = sorted(glob.glob(os.path.join(os.path.dirname(kivy.__file__), "..", "Kivy.libs", "libSDL2-2*.so*")))
    path = bundled[0] if bundled else ctypes.util.find_library("SDL2")
    if not path:
        return None
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def desktop_size() -> tuple[int, int] | None:
    """The first display's size in pixels once Kivy's window exists, or None if SDL cannot tell."""
    sdl = _sdl_library()
    if sdl is None:
        return None
    mode = _DisplayMode()
    if sdl.SDL_GetDesktopDisplayMode(0, ctypes.byref(mode)) != 0 or mode.w <= 0 or mode.h <= 0:
        log.warning("SDL could not report the display size")
        return None
    return mode.w, mode.h

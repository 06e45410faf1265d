"""The fonts the server draws Vietnamese with into images (paper forms, the written report's chart)."""

from __future__ import annotations

from pathlib import Path

from PIL import ImageFont

from sync.server.errors import ServerError

# Noto Sans (Debian's fonts-noto-core, which .ci/system-deps installs), else DejaVu Sans: both carry every
# Vietnamese letter with its marks.
_FONTS = ("/usr/share/fonts/truetype/noto/NotoSans-{}.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans{}.ttf")


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Noto Sans (fonts-noto-core), else DejaVu Sans, at `size` pixels; a bilingual ServerError without either."""
    for pattern in _FONTS:
        path = Path(pattern.format("Bold" if bold else ("Regular" if "noto" in pattern else "")))
        if path.exists():
            return ImageFont.truetype(str(path), size)
    raise ServerError("Không tìm thấy phông chữ có dấu tiếng Việt; cài gói fonts-noto-core",
                      "no font with Vietnamese letters found; install the fonts-noto-core package")

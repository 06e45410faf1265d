"""Paper forms as a citizen and a phone leave them: marks drawn into a rendered form's boxes (a pen's cross, a
filled box, a half or faint mark), then the page rotated, placed with perspective on a darker desk, blurred,
noised, and saved as a phone-sized JPEG. Used by the OMR tests, the screenshots and the bench."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO

import cv2
import numpy as np
from PIL import Image, ImageDraw

from sync.server.channels import paper_form as geo


def box_of(key: str, value: int) -> geo.Box:
    """The box of `key` (a question key or geo.LEVEL_KEY) that stands for `value`."""
    return next(box for box in geo.ROWS_BY_KEY[key].boxes if box.value == value)


def mark(page: Image.Image, key: str, value: int, style: str = "cross") -> None:
    """Mark one box as a citizen would: 'cross' (a pen's X), 'fill' (coloured in), 'half' (a short stroke
    into one corner), 'faint' (a very light pencil fill)."""
    box = box_of(key, value)
    draw = ImageDraw.Draw(page)
    x0, y0, x1, y1 = box.x + 6, box.y + 6, box.x + geo.BOX - 6, box.y + geo.BOX - 6
    if style == "cross":
        draw.line((x0, y0, x1, y1), fill=(20, 30, 120), width=8)
        draw.line((x0, y1, x1, y0), fill=(20, 30, 120), width=8)
    elif style == "fill":
        draw.rectangle((x0, y0, x1, y1), fill=(25, 25, 25))
    elif style == "half":   # a short stroke into one corner, as a citizen who changed their mind stops
        draw.line((x0, y0, x0 + (x1 - x0) // 2, y0 + (y1 - y0) // 2), fill=(20, 30, 120), width=8)
    elif style == "faint":
        draw.rectangle((x0, y0, x1, y1), fill=(165, 165, 165))
    else:
        raise ValueError(style)


def filled(sheet: geo.FormSheet, answers: Mapping[str, int | tuple[int, str]]) -> Image.Image:
    """The rendered form with each answer marked (value, or (value, style)); several marks for one key: a list."""
    page = geo.render(sheet)
    for key, answer in answers.items():
        value, style = answer if isinstance(answer, tuple) else (answer, "cross")
        mark(page, key, value, style)
    return page


def photo(page: Image.Image, *, size: tuple[int, int] = (3024, 4032), angle: float = 3.0, seed: int = 1,
          quality: int = 85, blur: int = 5, noise: float = 8.0) -> bytes:
    """The page photographed: rotated `angle` degrees, in perspective on a darker desk filling a `size` photo,
    blurred, with noise, as JPEG bytes."""
    rng = np.random.default_rng(seed)
    src = np.asarray(page.convert("RGB"))[:, :, ::-1]
    width, height = size
    desk = np.full((height, width, 3), (70, 85, 100), np.uint8)
    scale = 0.8 * min(width / geo.PAGE_W, height / geo.PAGE_H)
    centre = np.array([width / 2, height / 2])
    half = np.array([geo.PAGE_W, geo.PAGE_H]) * scale / 2
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    corners[0] += (0.04 * half[0], 0)      # the top edge further from the camera: narrower
    corners[1] += (-0.04 * half[0], 0)
    theta = np.radians(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    target = (corners @ rotation.T + centre + rng.normal(0, 4, (4, 2))).astype(np.float32)
    source = np.array([[0, 0], [geo.PAGE_W, 0], [geo.PAGE_W, geo.PAGE_H], [0, geo.PAGE_H]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    warped = cv2.warpPerspective(src, matrix, (width, height), borderMode=cv2.BORDER_TRANSPARENT, dst=desk)
    shade = np.linspace(0.85, 1.0, width)[None, :, None]     # light falling from one side
    image = warped.astype(np.float32) * shade + rng.normal(0, noise, warped.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    if blur:
        image = cv2.GaussianBlur(image, (blur | 1, blur | 1), 0)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return bytes(encoded)


def png(page: Image.Image) -> bytes:
    """The page as a PNG file (a flatbed scan, straight)."""
    out = BytesIO()
    page.save(out, "PNG")
    return out.getvalue()


def pdf_pages(data: bytes) -> list[Image.Image]:
    """The page images of a PDF written by paper_form.write_pdf, after checking its cross-reference table points
    at every object (what a PDF reader relies on)."""
    import re
    import zlib

    xref = int(re.findall(rb"startxref\n(\d+)\n%%EOF\n$", data)[0])
    table = data[xref:].split(b"trailer")[0].split(b"\n")[3:]
    for number, line in enumerate((row for row in table if row.strip()), start=1):
        offset = int(line.split()[0])
        assert data[offset:].startswith(b"%d 0 obj" % number), number
    pages = []
    for width, height, length, start in ((int(m.group(1)), int(m.group(2)), int(m.group(3)), m.end())
                                         for m in re.finditer(rb"/Width (\d+) /Height (\d+) .*?/Length (\d+) >>\n"
                                                              rb"stream\n", data)):
        bits = zlib.decompress(data[start:start + length])
        pages.append(Image.frombytes("1", (width, height), bits).convert("RGB"))
    return pages

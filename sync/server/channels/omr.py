"""Reading a scanned or photographed paper form (OMR) with the geometry it was drawn from (paper_form).

The four ArUco corner markers are found (on a copy at most DETECT_SIDE px long, for speed), the photo is warped
onto the page's own coordinates, the QR code gives the agency and form number, and each answer box's fill is
measured as the share of its inside darker than the paper. A question with exactly one clearly filled box is
read; two filled boxes, or any box only partly filled, make it unclear; no mark at all is "not answered" for an
optional question and unclear for the required level. An unreadable QR code makes the form number unclear.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from sync.server.channels import paper_form as geo
from sync.server.errors import ServerError

DETECT_SIDE = 1600
FILLED = 0.22        # share of dark pixels in a box's inside at or above which it is marked
TRACE = 0.06         # below this a box is empty; between the two it is a half mark a person must look at
INSET = 14           # px left out inside the printed outline (its ink and a little misregistration)
MAX_IMAGE_BYTES = 30 * 1024 * 1024
MAX_PIXELS = 64_000_000   # a 50-megapixel phone photo fits; decoded grey it is 64 MB at most


@dataclass(frozen=True)
class Reading:
    """What OMR read from one image: the agency and form number from the QR code (None if unreadable), each
    question's value (None: not answered or unclear), which questions a person must decide, and each box's fill."""

    agency_code: str | None
    form_number: int | None
    answers: dict[str, int | None]
    unclear: tuple[str, ...]
    fills: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def clear(self) -> bool:
        """True when every question and the form number were read without doubt."""
        return not self.unclear


def _not_a_form() -> ServerError:
    return ServerError("Không nhận ra phiếu trong ảnh: không thấy đủ các dấu vuông ở góc phiếu. Chụp cả trang, "
                       "đủ sáng, không che góc", "no form found in the image: the corner markers are not all "
                       "visible. Photograph the whole page, well lit, corners uncovered")


def _check_pixels(data: bytes) -> None:
    """Refuse an image whose header declares more than MAX_PIXELS before any pixel is inflated: a few kB of PNG or
    JPEG can declare 50000 × 50000 pixels, gigabytes once decoded (OpenCV's own cap is 2^30 pixels)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:   # reads the header only
                width, height = header.size
    except Image.DecompressionBombError:
        width, height = MAX_PIXELS, 2
    except (OSError, ValueError, SyntaxError):   # not a format a phone or scanner makes (JPEG, PNG, WebP, TIFF, BMP)
        raise _not_an_image() from None
    if width * height > MAX_PIXELS:
        raise ServerError(f"Ảnh lớn quá {MAX_PIXELS // 10**6} triệu điểm ảnh; chụp lại hoặc thu nhỏ ảnh",
                          f"the image has more than {MAX_PIXELS // 10**6} megapixels; take it again or scale it down")


def decode(data: bytes) -> np.ndarray:
    """The image's grey pixels; a bilingual ServerError for a file that is not an image."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ServerError(f"Ảnh lớn quá {MAX_IMAGE_BYTES // (1024 * 1024)} MB",
                          f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise _not_an_image()
    _check_pixels(data)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    except cv2.error:   # OpenCV's own cap on pixels, or a damaged file
        image = None
    if image is None:
        raise _not_an_image()
    return image


def _not_an_image() -> ServerError:
    return ServerError("Tệp không phải ảnh đọc được (JPEG, PNG …)", "the file is not a readable image (JPEG, PNG …)")


def _markers(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matching points: marker corners in the image and on the page."""
    scale = min(1.0, DETECT_SIDE / max(grey.shape))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(geo.ARUCO_DICT),
                                       cv2.aruco.DetectorParameters())
    corners, ids, _rejected = detector.detectMarkers(small)
    found: dict[int, np.ndarray] = {}
    for quad, seen_id in zip(corners, [] if ids is None else ids.flatten().tolist(), strict=False):
        if int(seen_id) in geo.MARKERS and int(seen_id) not in found:
            found[int(seen_id)] = quad.reshape(4, 2) / scale
    if len(found) < 3:   # three markers still fix a perspective (12 points); fewer cannot
        raise _not_a_form()
    image_points, page_points = [], []
    for marker_id, quad in found.items():
        x, y = geo.MARKERS[marker_id]
        side = geo.MARKER
        page_points += [(x, y), (x + side, y), (x + side, y + side), (x, y + side)]   # ArUco's corner order
        image_points += [tuple(point) for point in quad]
    return np.array(image_points, np.float32), np.array(page_points, np.float32)


def warp(grey: np.ndarray) -> np.ndarray:
    """The photo warped onto the page's coordinates (PAGE_W x PAGE_H)."""
    source, target = _markers(grey)
    matrix, _mask = cv2.findHomography(source, target, cv2.RANSAC, 8.0)
    if matrix is None:
        raise _not_a_form()
    return cv2.warpPerspective(grey, matrix, (geo.PAGE_W, geo.PAGE_H), flags=cv2.INTER_LINEAR,
                               borderValue=(255,))


def _qr(page: np.ndarray) -> tuple[str, int] | None:
    pad = 60
    crop = page[geo.QR_Y - pad:geo.QR_Y + geo.QR_SIZE + pad, geo.QR_X - pad:geo.QR_X + geo.QR_SIZE + pad]
    detector = cv2.QRCodeDetector()
    for attempt in (crop, cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]):
        text, _points, _straight = detector.detectAndDecode(attempt)
        if text and (parsed := geo.parse_qr(text)) is not None:
            return parsed
    return None


def _fills(page: np.ndarray, row: geo.Row) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per box: the share of its inside clearly dark (ink), and the share at least a little grey (pencil)."""
    dark, grey = [], []
    for box in row.boxes:
        # The paper's own white next to the box: light falls unevenly across a photographed page.
        around = page[max(box.y - 40, 0):box.y + geo.BOX + 40, max(box.x - 40, 0):box.x + geo.BOX + 40]
        paper = max(float(np.percentile(around, 90)), 60.0)
        inside = page[box.y + INSET:box.y + geo.BOX - INSET, box.x + INSET:box.x + geo.BOX - INSET]
        dark.append(float(np.count_nonzero(inside < paper * 0.6)) / inside.size)
        grey.append(float(np.count_nonzero(inside < paper * 0.82)) / inside.size)
    return tuple(dark), tuple(grey)


def read_page(page: np.ndarray) -> Reading:
    """Read a page already in the geometry's coordinates (a warped photo, or a rendered form)."""
    answers: dict[str, int | None] = {}
    unclear: list[str] = []
    fills: dict[str, tuple[float, ...]] = {}
    qr = _qr(page)
    if qr is None:
        unclear.append(geo.FORM_NUMBER_KEY)
    for row in geo.ROWS:
        row_fills, greys = _fills(page, row)
        fills[row.key] = row_fills
        marked = [box for box, fill in zip(row.boxes, row_fills, strict=True) if fill >= FILLED]
        # A half mark, or a faint one (grey, barely any ink): the citizen's intent is for a person to judge.
        partial = any(TRACE <= fill < FILLED or (fill < FILLED and grey >= FILLED)
                      for fill, grey in zip(row_fills, greys, strict=True))
        if len(marked) == 1 and not partial:
            answers[row.key] = marked[0].value
        else:
            answers[row.key] = None
            if marked or partial or not row.optional:
                unclear.append(row.key)
    return Reading(qr[0] if qr else None, qr[1] if qr else None, answers, tuple(unclear), fills)


def read(data: bytes) -> Reading:
    """Read one image file's form; a bilingual ServerError for a file that is not an image or shows no form."""
    return read_page(warp(decode(data)))

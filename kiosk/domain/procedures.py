"""What the kiosk knows about an administrative procedure (thủ tục hành chính), and how text is folded for search.

The shape follows the national procedure database (CSDL quốc gia về TTHC); importers fill it from that
database's JSON or from a commune's spreadsheet, screens and slips read it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

# The channels (cách thức thực hiện) as the national database names them, in the order screens show them.
CHANNELS = ("Trực tiếp", "Trực tuyến", "Bưu chính công ích")


@dataclass(frozen=True)
class Fee:
    """One fee or charge (phí, lệ phí): an amount in đồng when it is a plain number, else only the words."""

    description: str = ""
    amount: int | None = None  # đồng; None when the text is not one number ("Miễn phí", a range, a formula)
    unit: str = ""  # what the amount is per, e.g. "bản", "trang"
    code: str = ""


@dataclass(frozen=True)
class Channel:
    """One way to submit (in person, online, by post) with its time limit and fees."""

    name: str
    time_limit: str = ""  # in words, e.g. "Ngay trong ngày tiếp nhận hồ sơ"
    fees: tuple[Fee, ...] = ()


@dataclass(frozen=True)
class Document:
    """One document of the dossier (thành phần hồ sơ)."""

    name: str
    originals: int | None = None  # số bản chính
    copies: int | None = None  # số bản sao
    form: str = ""  # tên mẫu đơn, tờ khai
    form_url: str = ""
    case: str = ""  # trường hợp, when the dossier differs by case


@dataclass(frozen=True)
class Step:
    """One step of the procedure (trình tự thực hiện)."""

    text: str
    case: str = ""


@dataclass(frozen=True)
class LegalBasis:
    """One legal document the procedure rests on (căn cứ pháp lý)."""

    number: str
    title: str = ""
    issued: str = ""  # date as published, e.g. "15/11/2014"
    issuer: str = ""


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure, everything a citizen needs to prepare and submit it."""

    code: str  # mã thủ tục, e.g. "1.001193" or "1.012753.H19"
    name: str
    field_code: str = ""  # lĩnh vực
    field_name: str = ""
    level: str = ""  # cấp thực hiện, e.g. "Cấp Xã"
    agency: str = ""  # cơ quan thực hiện
    subjects: str = ""  # đối tượng thực hiện
    channels: tuple[Channel, ...] = ()
    steps: tuple[Step, ...] = ()
    documents: tuple[Document, ...] = ()
    requirements: str = ""  # yêu cầu, điều kiện
    results: tuple[str, ...] = ()  # kết quả thực hiện
    legal_basis: tuple[LegalBasis, ...] = ()
    address: str = ""  # địa chỉ tiếp nhận hồ sơ
    online_url: str = ""  # the online service page, for the QR code
    status: str = ""  # trạng thái as exported
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def online(self) -> bool:
        """Whether it can be submitted online."""
        # The portal links every procedure to its page there; only an online channel means one can apply.
        if self.channels:
            return any(c.name == "Trực tuyến" for c in self.channels)
        return bool(self.online_url)


# Where the central server's public catalog puts a procedure's page, under its catalog address ([contact]
# catalog_url, e.g. https://kiosk.tinh.gov.vn/thu-tuc; sync/server/catalog/pages.py serves it).
PUBLIC_PAGE = "{catalog_url}/p/{code}"


def forms_url(procedure: Procedure, catalog_url: str = "") -> str:
    """Where a phone gets the procedure's forms (mẫu đơn, tờ khai): its page in the server's public catalog, which
    lists every form, when the catalog's address is known; else the first form's own address; "" without forms."""
    documents = [doc for doc in procedure.documents if doc.form or doc.form_url]
    if not documents:
        return ""
    if catalog_url:
        return PUBLIC_PAGE.format(catalog_url=catalog_url.rstrip("/"), code=procedure.code)
    return next((doc.form_url for doc in documents if doc.form_url), "")


def fold(text: str) -> str:
    """Lower-case, without tone marks or diacritics, đ as d: what search compares on both sides."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()

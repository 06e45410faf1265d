"""A procedure's page: everything a citizen must bring and do, in sections easy to jump between."""

from __future__ import annotations

import io
from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.label import Label

from kiosk.domain.procedures import CHANNELS, Procedure, forms_url
from kiosk.i18n import document_counts, t
from kiosk.ui.shell import Shell
from kiosk.ui.widgets import KioskScreen, on_ui_thread

Builder.load_file(__file__.replace(".py", ".kv"))

SECTIONS = ("documents", "steps", "time_fees", "requirements", "results", "legal")


def section_texts(procedure: Procedure, lang: str) -> dict[str, list[str]]:
    """The body of each section as paragraphs (kv markup escaped), in the order screens show them."""
    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")

    documents = []
    last_case = None
    for doc in procedure.documents:
        if doc.case and doc.case != last_case:
            documents.append(f"[b]{esc(doc.case)}[/b]")
            last_case = doc.case
        detail = "; ".join(x for x in (", ".join(document_counts(doc.originals, doc.copies, lang)),
                                        t("procedure.form", lang, form=esc(doc.form)) if doc.form else "")
                           if x)
        documents.append(f"• {esc(doc.name)}" + (f"\n      [color=4a5561]{detail}[/color]" if detail else ""))
    steps = []
    last_case = None
    for number, step in enumerate(procedure.steps, start=1):
        if step.case and step.case != last_case:
            steps.append(f"[b]{esc(step.case)}[/b]")
            last_case = step.case
        steps.append(f"{number}. {esc(step.text)}")
    order = {name: i for i, name in enumerate(CHANNELS)}
    time_fees = []
    for channel in sorted(procedure.channels, key=lambda c: order.get(c.name, len(order))):
        fees = "; ".join(esc(f.description) for f in channel.fees if f.description)
        lines = [f"[b]{esc(channel.name)}[/b]"]
        if channel.time_limit:
            lines.append(t("procedure.time_limit", lang, time=esc(channel.time_limit)))
        if fees:
            lines.append(t("procedure.fees", lang, fees=fees))
        time_fees.append("\n".join(lines))
    legal = [esc(" ".join(x for x in (b.number, b.title, (f"({b.issued})" if b.issued else "")) if x))
             for b in procedure.legal_basis]
    return {
        "documents": documents,
        "steps": steps,
        "time_fees": time_fees,
        "requirements": [esc(procedure.requirements)] if procedure.requirements else [],
        "results": [esc(r) for r in procedure.results],
        "legal": legal,
    }


class ProcedureScreen(KioskScreen):
    """Shows one procedure; "In phiếu hướng dẫn" prints its guide slip when a printer is there."""

    code = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    print_text = StringProperty("")
    online = BooleanProperty(False)
    qr_texture = ObjectProperty(None, allownone=True)
    forms_qr_texture = ObjectProperty(None, allownone=True)
    forms_url = StringProperty("")

    def __init__(self, shell: Shell, **kwargs: Any) -> None:
        super().__init__(shell, name="procedure", **kwargs)
        self.procedure: Procedure | None = None
        self.headers: dict[str, Label] = {}
        self.ui.bind(lang=lambda *_a: self._fill())

    def show(self, code: str) -> None:
        """Load the procedure `code` from the catalog and lay out its page."""
        self.procedure = self.services.catalog.get(code)
        self.code = code
        self.print_text = ""
        self._fill()
        self.ids.scroll.scroll_y = 1

    def _fill(self) -> None:
        procedure, lang = self.procedure, self.ui.lang
        body = self.ids.body
        body.clear_widgets()
        self.headers = {}
        if procedure is None:
            self.title, self.subtitle, self.online, self.qr_texture = self.code, "", False, None
            self.forms_url, self.forms_qr_texture = "", None
            return
        self.title = procedure.name
        facts = [f"{self.ui.t('procedure.code', lang)}: {procedure.code}", procedure.field_name, procedure.agency]
        self.subtitle = "  ·  ".join(x for x in facts if x)
        self.online = procedure.online
        self.qr_texture = _qr_texture(procedure.online_url) if procedure.online_url else None
        url = forms_url(procedure, self.services.settings.contact.catalog_url)
        if url != self.forms_url or (url and self.forms_qr_texture is None):
            self.forms_qr_texture = _qr_texture(url) if url else None
        self.forms_url = url
        texts = section_texts(procedure, lang)
        for key in SECTIONS:
            header = _SectionHeader(text=self.ui.t(f"procedure.{key}", lang), screen=self)
            body.add_widget(header)
            self.headers[key] = header
            paragraphs = texts[key] or [self.ui.t("procedure.not_published", lang)]
            for paragraph in paragraphs:
                body.add_widget(_Paragraph(text=paragraph, screen=self))

    def jump(self, key: str) -> None:
        """Scroll so the section `key` starts at the top."""
        header = self.headers.get(key)
        if header is not None:
            self.ids.scroll.scroll_to(header, padding=10, animate=False)

    def print_guide(self) -> None:
        """Print the guide slip on a worker thread; the page stays usable."""
        if self.procedure is None:
            return
        settings = self.services.settings
        slip = self.services.catalog.guide_slip(self.procedure, settings.agency.name, settings.contact.hotline,
                                                settings.contact.catalog_url)
        lang = self.ui.lang
        if self.services.printer.submit_slip(slip, on_ui_thread(self._printed)):
            self.print_text = self.ui.t("print.printing", lang)
        else:
            self.print_text = self.ui.t("procedure.print_busy", lang)

    def _printed(self, error: Any) -> None:
        key = "procedure.print_failed" if error else "procedure.print_done"
        self.print_text = self.ui.t(key, self.ui.lang)


class _SectionHeader(Label):
    screen = ObjectProperty(None)


class _Paragraph(Label):
    screen = ObjectProperty(None)


def _qr_texture(url: str) -> Any:
    """A crisp QR code of `url` as a Kivy texture (drawn by Pillow, scaled without smoothing)."""
    import qrcode

    code = qrcode.QRCode(border=2, box_size=8)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    buffer.seek(0)
    texture = CoreImage(buffer, ext="png").texture
    texture.mag_filter = "nearest"
    return texture

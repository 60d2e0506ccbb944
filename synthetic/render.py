"""Draw PageContent onto letter-size grayscale pages with the DejaVu fonts."""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from synthetic.content import PageContent

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PAGE_W_PT, PAGE_H_PT = 612.0, 792.0
MARGIN_PT = 54.0
BODY_PT, BODY_PITCH_PT = 10.5, 14.0
INK, RULE = 20, 60

Font = ImageFont.FreeTypeFont


@lru_cache(maxsize=64)
def font(name: str, size_px: int) -> Font:
    """Return a cached DejaVu font, e.g. ``font("DejaVuSans-Bold", 46)``."""
    return ImageFont.truetype(str(FONT_DIR / f"{name}.ttf"), size_px)


class _Pen:
    """Draws text at point coordinates on a page of a given dpi."""

    def __init__(self, image: Image.Image, dpi: int) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.dpi = dpi

    def px(self, pt: float) -> int:
        return round(pt * self.dpi / 72.0)

    def text(self, x_pt: float, y_pt: float, text: str, face: str, size_pt: float) -> None:
        self.draw.text(
            (self.px(x_pt), self.px(y_pt)), text, fill=INK, font=font(face, self.px(size_pt))
        )

    def width_pt(self, text: str, face: str, size_pt: float) -> float:
        return font(face, self.px(size_pt)).getlength(text) * 72.0 / self.dpi

    def rule(self, y_pt: float, width_pt: float = 1.0) -> None:
        y = self.px(y_pt)
        self.draw.line(
            [(self.px(MARGIN_PT), y), (self.px(PAGE_W_PT - MARGIN_PT), y)],
            fill=RULE,
            width=max(1, self.px(width_pt)),
        )


def draw_page(page: PageContent, dpi: int, layout: str) -> Image.Image:
    """Draw one page.

    Args:
        page: What to write.
        dpi: Resolution in dots per inch.
        layout: The identifier layout (see ``DocumentSpec.layout``).

    Returns:
        A grayscale (mode ``L``) letter-size image.
    """
    image = Image.new("L", (round(8.5 * dpi), 11 * dpi), 255)
    pen = _Pen(image, dpi)
    y = MARGIN_PT - 18
    if page.fax_header:
        pen.text(MARGIN_PT - 20, 14, page.fax_header, "DejaVuSansMono", 9)
        y += 10
    rule_y = _letterhead(pen, page, y)
    y = rule_y + 14
    if layout == "sticker":  # the label hides part of the letterhead, not the title
        y = _sticker(pen, page, rule_y) + 8
    title_w = pen.width_pt(page.title, "DejaVuSans-Bold", 14)
    pen.text((PAGE_W_PT - title_w) / 2, y, page.title, "DejaVuSans-Bold", 14)
    y += 28
    if layout != "sticker":
        y = _id_block(pen, page, layout, y)
    y = _extra(pen, page, y)
    pen.rule(y + 4, 0.5)
    _body(pen, page, y + 16)
    _footer(pen, page)
    return image


def _letterhead(pen: _Pen, page: PageContent, y: float) -> float:
    name, dept, address = page.letterhead
    pen.text(MARGIN_PT, y, name, "DejaVuSans-Bold", 16)
    pen.text(MARGIN_PT, y + 22, dept, "DejaVuSans", 9)
    pen.text(MARGIN_PT, y + 34, address, "DejaVuSans", 9)
    pen.rule(y + 50, 1.5)
    return y + 50


def _id_block(pen: _Pen, page: PageContent, layout: str, y: float) -> float:
    if page.table is not None:
        return _table(pen, page.table, y)
    for i, line in enumerate(page.id_lines):
        header = layout == "last_first" and i == 0
        face = "DejaVuSans-Bold" if header else "DejaVuSans"
        pen.text(MARGIN_PT, y, line, face, 12 if header else 11)
        y += 18 if header else 16
    return y


def _table(pen: _Pen, table: tuple[tuple[str, ...], tuple[str, ...]], y: float) -> float:
    widths = [
        max(pen.width_pt(h, "DejaVuSans-Bold", 10), pen.width_pt(v, "DejaVuSans", 11))
        for h, v in zip(*table, strict=True)
    ]
    x = MARGIN_PT
    box = pen.draw
    for (head, value), width in zip(zip(*table, strict=True), widths, strict=True):
        cell = width + 18
        box.rectangle(
            [pen.px(x), pen.px(y), pen.px(x + cell), pen.px(y + 40)],
            outline=RULE,
            width=max(1, pen.px(0.6)),
        )
        box.line(
            [(pen.px(x), pen.px(y + 17)), (pen.px(x + cell), pen.px(y + 17))],
            fill=RULE,
            width=max(1, pen.px(0.6)),
        )
        pen.text(x + 6, y + 3, head, "DejaVuSans-Bold", 10)
        pen.text(x + 6, y + 22, value, "DejaVuSans", 11)
        x += cell
    return y + 48


def _extra(pen: _Pen, page: PageContent, y: float) -> float:
    for line in page.extra_lines:
        pen.text(MARGIN_PT, y, line, "DejaVuSans", 10)
        y += 14
    return y


def _body(pen: _Pen, page: PageContent, y: float) -> None:
    prose = "DejaVuSerif" if page.serif else "DejaVuSans"
    faces = {"h": (prose + "-Bold", BODY_PT), "p": (prose, BODY_PT), "m": ("DejaVuSansMono", 10)}
    for line in page.body:
        if line.style in faces:
            face, size = faces[line.style]
            pen.text(MARGIN_PT, y, line.text, face, size)
        y += BODY_PITCH_PT


def _footer(pen: _Pen, page: PageContent) -> None:
    y = PAGE_H_PT - MARGIN_PT + 10
    pen.rule(y - 6, 0.5)
    pen.text(MARGIN_PT, y, page.footer[0], "DejaVuSans", 8)
    right = page.footer[1]
    pen.text(
        PAGE_W_PT - MARGIN_PT - pen.width_pt(right, "DejaVuSans", 9), y, right, "DejaVuSans", 9
    )


def _sticker(pen: _Pen, page: PageContent, rule_y: float) -> float:
    """Paste a patient label turned a little, straddling the letterhead rule.

    Returns:
        The y (points) just below the pasted label.
    """
    w_pt, h_pt = 250.0, 30.0 + 16.0 * len(page.id_lines)
    label = Image.new("L", (pen.px(w_pt), pen.px(h_pt)), 246)
    lp = _Pen(label, pen.dpi)
    lp.draw.rectangle(
        [0, 0, label.width - 1, label.height - 1], outline=150, width=max(1, pen.px(0.8))
    )
    y = 6.0
    for i, line in enumerate(page.id_lines):
        lp.text(8, y, line, "DejaVuSans-Bold" if i == 0 else "DejaVuSans", 11 if i == 0 else 10)
        y += 16
    _barcode(lp, page, 8, y + 2, w_pt - 16)
    mask = Image.new("L", label.size, 255)
    label = label.rotate(page.sticker_angle, Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    mask = mask.rotate(page.sticker_angle, Image.Resampling.BICUBIC, expand=True, fillcolor=0)
    x = pen.px(PAGE_W_PT - MARGIN_PT - w_pt + 10)
    top = pen.px(rule_y - h_pt / 2)
    pen.image.paste(label, (x, top), mask)
    return (top + label.height) * 72.0 / pen.dpi


def _barcode(pen: _Pen, page: PageContent, x: float, y: float, width: float) -> None:
    # Bars from a checksum of the label text: looks like a barcode, encodes nothing.
    bits = zlib.crc32("".join(page.id_lines).encode()) | 1
    step = width / 64
    for i in range(64):
        if (bits >> (i % 31)) & 1 or i % 7 == 0:
            x0 = pen.px(x + i * step)
            pen.draw.rectangle(
                [x0, pen.px(y), x0 + max(1, pen.px(step * 0.6)), pen.px(y + 14)], fill=INK
            )

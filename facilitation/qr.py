"""Join QR codes: SVG for the projector, text for the terminal."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _code(url: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    return qr


@lru_cache(maxsize=256)
def svg(url: str) -> str:
    """Return the QR code of `url` as an inline SVG element that scales to its box."""
    image = _code(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    text = image.to_string(encoding="unicode")
    # Drop the XML declaration and fixed size: the page sizes it.
    start = text.index("<svg")
    element = text[start:]
    for attribute in ('width="', 'height="'):
        if attribute in element.split(">", 1)[0]:
            head, rest = element.split(">", 1)
            parts = head.split(attribute, 1)
            head = parts[0] + parts[1].split('"', 1)[1]
            element = head + ">" + rest
    return element.replace("<svg", '<svg class="qr" aria-hidden="true" focusable="false"', 1)


def terminal(url: str) -> str:
    """Return the QR code of `url` drawn with block characters for a terminal."""
    out = io.StringIO()
    _code(url).print_ascii(out=out, invert=True)
    return out.getvalue()

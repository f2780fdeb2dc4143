"""What a facilitator types in a note or the objectives, kept as written: paragraphs
(a blank line between them), line breaks, and lists ("- ", "* " or "1. " at the start of
a line, two spaces more for each sub-level). Nothing else is interpreted; no HTML passes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

LIST_LINE = re.compile(r"^( *)(?:[-*•]|(\d{1,3})[.)])\s+(.*\S)\s*$")
MAX_LEVEL = 2  # three levels of lists at most


@dataclass(frozen=True)
class Paragraph:
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Listing:
    items: tuple[tuple[int, str], ...]  # (level from 0, text)
    numbered: bool = False


Part = Paragraph | Listing


def parse(text: str) -> list[Part]:
    parts: list[Part] = []
    lines: list[str] = []
    items: list[tuple[int, str]] = []
    numbered = False

    def flush() -> None:
        nonlocal lines, items
        if lines:
            parts.append(Paragraph(tuple(lines)))
        if items:
            parts.append(Listing(tuple(items), numbered))
        lines, items = [], []

    for raw in (text or "").replace("\r\n", "\n").replace("\t", "  ").split("\n"):
        match = LIST_LINE.match(raw)
        if match:
            if lines:
                flush()
            if not items:
                numbered = match.group(2) is not None
            items.append((min(len(match.group(1)) // 2, MAX_LEVEL), match.group(3)))
        elif raw.strip():
            if items:
                flush()
            lines.append(" ".join(raw.split()))
        else:
            flush()
    flush()
    return parts


def html(text: str) -> Markup:
    """The parts as HTML, every text escaped: <p> with <br>, nested <ul>/<ol>."""
    out: list[str] = []
    for part in parse(text):
        if isinstance(part, Paragraph):
            out.append("<p>" + "<br>".join(str(escape(line)) for line in part.lines) + "</p>")
            continue
        tag = "ol" if part.numbered else "ul"
        depth = -1
        for level, item in part.items:
            level = min(level, depth + 1)  # a sub-item needs an item to hang from
            if level > depth:
                out.append(f"<{tag}>")
            else:
                out.append("</li>")
                for _ in range(depth - level):
                    out.append(f"</{tag}></li>")
            out.append(f"<li>{escape(item)}")
            depth = level
        out.append("</li>")
        for _ in range(depth):
            out.append(f"</{tag}></li>")
        out.append(f"</{tag}>")
    return Markup("".join(out))  # noqa: S704 - every text in it went through escape()

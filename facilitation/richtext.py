"""What a facilitator types in a note or the objectives, kept as written: paragraphs
(a blank line between them), line breaks, and lists ("- ", "* " or "1. " at the start of
a line, two spaces more for each sub-level), and **bold** inside a line. Nothing else is
interpreted; no HTML passes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

LIST_LINE = re.compile(r"^( *)(?:[-*•]|(\d{1,3})[.)])\s+(.*\S)\s*$")
MAX_LEVEL = 2  # three levels of lists at most
BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


def inline(line: str) -> tuple[tuple[str, bool], ...]:
    """A line cut into (text, bold) runs: "**word**" is bold, an unpaired "**" stays as
    typed."""
    runs: list[tuple[str, bool]] = []
    at = 0
    for match in BOLD.finditer(line):
        if match.start() > at:
            runs.append((line[at:match.start()], False))
        runs.append((match.group(1), True))
        at = match.end()
    if at < len(line) or not runs:
        runs.append((line[at:], False))
    return tuple(runs)


def inline_html(line: str) -> str:
    return "".join(f"<strong>{escape(text)}</strong>" if bold else str(escape(text))
                   for text, bold in inline(line))


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
            out.append("<p>" + "<br>".join(inline_html(line) for line in part.lines) + "</p>")
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
            out.append(f"<li>{inline_html(item)}")
            depth = level
        out.append("</li>")
        for _ in range(depth):
            out.append(f"</{tag}></li>")
        out.append(f"</{tag}>")
    return Markup("".join(out))  # noqa: S704 - every text in it went through escape()

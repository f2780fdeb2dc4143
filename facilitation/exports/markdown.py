"""The compte-rendu as Markdown: plain text that reads well and diffs well."""

from __future__ import annotations

import re
from collections.abc import Sequence

from facilitation.exports.blocks import (
    Block,
    Bullets,
    Chart,
    Facts,
    Heading,
    Inline,
    Para,
    Section,
    Table,
    blocks,
    runs,
)
from facilitation.i18n import Translator
from facilitation.report import Report

# Characters that make Markdown out of plain text: emphasis, code, links and images
# (brackets), and the backslash that escapes them.
MARKUP = re.compile(r"([\\`*_\[\]])")
ENTITY = re.compile(r"&(?=#?\w+;)")


def escape(text: str) -> str:
    """Typed text as Markdown that shows it and does nothing else: no raw HTML (a
    <script> or <img onerror>), no link or image (so no javascript: link), no emphasis."""
    text = ENTITY.sub("&amp;", MARKUP.sub(r"\\\1", text))
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _cell(value: object) -> str:
    return escape(str(value)).replace("|", "\\|").replace("\n", " ")


def _inline(value: Inline) -> str:
    """Runs as Markdown: bold between **, a line break as a backslash at the end of the
    line."""
    out = []
    for run in runs(value):
        text = escape(run.text).replace("\n", "\\\n")
        out.append(f"**{text.strip()}**" if run.bold and text.strip() else text)
    return "".join(out)


def render(report: Report, tr: Translator) -> str:
    return render_blocks(blocks(report, tr, ANNEX(tr, report)))


def render_blocks(document: Sequence[Block]) -> str:
    out: list[str] = []
    for block in document:
        if isinstance(block, Section):
            out += ["## " + escape(block.title), ""]
        elif isinstance(block, Heading):
            out += ["#" * block.level + " " + escape(block.text), ""]
        elif isinstance(block, Para):
            out += [_inline(block.text), ""]
        elif isinstance(block, Facts):
            out += [f"- **{escape(label)}** : {_inline(value)}" for label, value in block.rows]
            out.append("")
        elif isinstance(block, Bullets):
            numbers = [0] * 4
            for i, item in enumerate(block.items):
                level = block.level(i)
                numbers[level] += 1
                numbers[level + 1:] = [0] * (3 - level)
                mark = f"{numbers[level]}." if block.numbered else "-"
                out.append(("   " if block.numbered else "  ") * level
                           + f"{mark} {_inline(item)}")
            out.append("")
        elif isinstance(block, Table | Chart):
            # Markdown carries the table that goes with each chart
            grid = block.table if isinstance(block, Chart) else block
            out.append("| " + " | ".join(_cell(h) for h in grid.head) + " |")
            out.append("|" + "|".join("---" for _ in grid.head) + "|")
            out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in grid.rows]
            out.append("")
            if isinstance(block, Chart) and block.caption:
                out += [escape(block.caption), ""]
    return "\n".join(out).rstrip() + "\n"


def ANNEX(tr: Translator, report: Report | None = None) -> str:  # noqa: N802 - shared text
    """The annex: how each figure was counted, for the methods the report uses only."""
    _ = tr.gettext
    lines = {
        "n": _("n is the number of people who answered a question; percentages are of n, "
               "so a multiple choice can add up to more than 100 %."),
        "text": _("Free text: French stop words are removed and inflected forms grouped "
                  "(Snowball stemming); a word counts once per person."),
        "ranking": _("Ranking: Borda count, with k options a first place earns k − 1 points "
                     "and the last 0."),
        "consensus": _("Consensus: the share of votes that agree and that disagree, passes "
                       "included, compared with the séance's rule."),
        "judgment": _("Majority judgment: items are ranked by their majority grade (the "
                      "median); a tie is broken by removing that grade once from each tied "
                      "item and comparing again."),
        "channels": _("Phone, paper and spoken contributions count the same; the channel is "
                      "kept."),
    }
    used = report.methods_used if report is not None else tuple(lines)
    return "\n".join("- " + lines[key] for key in used)

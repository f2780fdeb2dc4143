"""The compte-rendu as ODT (odfpy; charts as SVG, with a PNG for older readers) and DOCX
(python-docx; charts as high-resolution PNG, since DOCX cannot hold SVG)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

import cairosvg
from docx import Document
from docx.shared import Cm
from odf import draw, style, table, text
from odf.opendocument import OpenDocumentText

from facilitation.exports.blocks import (
    Block,
    Bullets,
    Chart,
    Facts,
    Heading,
    Inline,
    Para,
    Run,
    Section,
    Table,
    bold_lead,
    leads,
    runs,
)
from facilitation.text import clean

WIDTH_CM = 16.0
MAX_CHART_CM = 18.0  # a chart's height: it stays on one page with its heading


def _chart_width(svg: str) -> float:
    return min(WIDTH_CM, MAX_CHART_CM / _ratio(svg))


def standalone_svg(figure_html: str) -> str | None:
    """The chart's <svg> out of its HTML figure, as a file of its own (with its size)."""
    match = re.search(r"<svg[^>]*class=\"bars\"[^>]*>.*?</svg>", figure_html, re.S)
    if not match:
        return None
    svg = match.group(0)
    box = re.search(r'viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"', svg)
    width, height = (box.group(1), box.group(2)) if box else ("1000", "600")
    svg = re.sub(r"\s(aria-hidden|focusable|class|preserveAspectRatio)=\"[^\"]*\"", "",
                 svg.split(">", 1)[0]) + ">" + svg.split(">", 1)[1]
    legend = re.findall(r'<li><svg[^>]*class="swatch"[^>]*><rect[^>]*fill="([^"]+)"[^>]*/>'
                        r"</svg>([^<]*)</li>", figure_html.split('class="bars"', 1)[1])
    if legend:  # on screen the legend is HTML beside the chart; a picture carries its own
        top = float(height)
        x = 0.0
        keys = []
        for color, label in legend:
            keys.append(f'<rect x="{x:.0f}" y="{top + 14:.0f}" width="30" height="30" '
                        f'fill="{color}" stroke="#000" stroke-width="1.5"/>'
                        f'<text x="{x + 42:.0f}" y="{top + 39:.0f}" font-size="28" '
                        f'fill="#1b1b1b">{label.strip()}</text>')
            x += 42 + 17 * len(html.unescape(label.strip())) + 36
        height = f"{top + 56:.0f}"
        svg = svg.replace(box.group(0) if box else 'viewBox="0 0 1000 600"',
                          f'viewBox="0 0 {width} {height}"', 1)
        svg = svg[:svg.rindex("</svg>")] + "".join(keys) + "</svg>"
    return svg.replace("<svg", f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
                       f'height="{height}" font-family="DejaVu Sans, sans-serif"', 1)


def _ratio(svg: str) -> float:
    box = re.search(r'viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"', svg)
    return float(box.group(2)) / float(box.group(1)) if box else 0.6


def _png(svg: str) -> bytes:
    png: bytes = cairosvg.svg2png(bytestring=svg.encode(), output_width=2400)
    return png


def _docx_runs(paragraph: Any, value: Inline) -> None:
    for piece in runs(value):
        for i, line in enumerate(piece.text.split("\n")):
            run = paragraph.add_run()
            run.bold = piece.bold or None
            if i:
                run.add_break()  # a line break typed in a note stays one
            run.add_text(line)


def _docx_table(doc: Any, block: Table) -> None:
    grid = doc.add_table(rows=1, cols=len(block.head))
    grid.style = "Table Grid"
    grid.autofit = False  # the widths below, from what each column holds
    widths = [Cm(WIDTH_CM * share) for share in block.widths()]
    for cell, head in zip(grid.rows[0].cells, block.head, strict=True):
        cell.text = str(head)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in block.rows:
        cells = grid.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = str(value)
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width  # Word reads the cells' widths, LibreOffice the grid's
    doc.add_paragraph()


def xml_safe(value: Any) -> Any:
    """The blocks with every text cleaned (text.clean): text stored before input was
    cleaned may hold a control character, which XML cannot carry at all (python-docx
    refused the whole document)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, tuple):
        return tuple(xml_safe(v) for v in value)
    if isinstance(value, Run | Section | Heading | Para | Bullets | Facts | Table):
        return replace(value, **{f.name: xml_safe(getattr(value, f.name))
                                 for f in fields(value)})
    if isinstance(value, Chart):
        return replace(value, title=clean(value.title), table=xml_safe(value.table),
                       caption=clean(value.caption))
    return value


def to_docx(document: Sequence[Block], charts: Mapping[str, str]) -> bytes:
    document = xml_safe(tuple(document))
    doc = Document()
    keep = leads(document)
    for index, block in enumerate(document):
        if isinstance(block, Section):
            doc.add_heading(block.title, level=1)
        elif isinstance(block, Heading):
            doc.add_heading(block.text, level=min(block.level, 4) - 1 if block.level > 1 else 0)
        elif isinstance(block, Para):
            paragraph = doc.add_paragraph()
            paragraph.paragraph_format.keep_with_next = index in keep or None
            _docx_runs(paragraph, block.text)
        elif isinstance(block, Bullets | Facts):
            items = block.items if isinstance(block, Bullets) else tuple(
                bold_lead(label, f" : {value}") for label, value in block.rows)
            numbered = isinstance(block, Bullets) and block.numbered
            for number, entry in enumerate(items):
                kind = "List Number" if numbered else "List Bullet"
                level = block.level(number) if isinstance(block, Bullets) else 0
                paragraph = doc.add_paragraph(style=kind + (f" {level + 1}" if level else ""))
                _docx_runs(paragraph, entry)
        elif isinstance(block, Table):
            _docx_table(doc, block)
        elif isinstance(block, Chart):
            if block.key in charts:
                doc.add_picture(io.BytesIO(_png(charts[block.key])),
                                width=Cm(_chart_width(charts[block.key])))
            _docx_table(doc, block.table)
            if block.caption:
                doc.add_paragraph(block.caption)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_odt(document: Sequence[Block], charts: Mapping[str, str]) -> bytes:
    document = xml_safe(tuple(document))
    doc = OpenDocumentText()
    # The same sans-serif as the charts, and a little space under each paragraph ("Actions
    # en place :" sat against its list).
    default = style.DefaultStyle(family="paragraph")
    default.addElement(style.TextProperties(fontfamily="'DejaVu Sans', sans-serif",
                                            fontsize="10pt"))
    default.addElement(style.ParagraphProperties(marginbottom="0.15cm"))
    doc.styles.addElement(default)
    bold = style.Style(name="Bold", family="text")
    bold.addElement(style.TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(bold)
    headings = {}
    for level, size in ((1, "20pt"), (2, "15pt"), (3, "12.5pt"), (4, "11pt")):
        heading = style.Style(name=f"Heading {level}", family="paragraph")
        heading.addElement(style.TextProperties(fontsize=size, fontweight="bold"))
        heading.addElement(style.ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm",
                                                     keepwithnext="always"))
        doc.styles.addElement(heading)
        headings[level] = heading
    cell_style = style.Style(name="Cell", family="table-cell")
    cell_style.addElement(style.TableCellProperties(border="0.5pt solid #000000",
                                                    padding="0.08cm"))
    doc.automaticstyles.addElement(cell_style)
    # Real list styles: a list without one got the reader's own bullet before ours ("• •").
    bullets = text.ListStyle(name="Bullets")
    numbers = text.ListStyle(name="Numbers")
    for level, char in ((1, "•"), (2, "–"), (3, "◦")):
        indent = f"{0.4 + 0.6 * (level - 1):.1f}cm"
        bullet_level = text.ListLevelStyleBullet(level=level, bulletchar=char)
        bullet_level.addElement(style.ListLevelProperties(spacebefore=indent,
                                                          minlabelwidth="0.5cm"))
        bullets.addElement(bullet_level)
        number_level = text.ListLevelStyleNumber(level=level, numformat="1", numsuffix=".")
        number_level.addElement(style.ListLevelProperties(spacebefore=indent,
                                                          minlabelwidth="0.6cm"))
        numbers.addElement(number_level)
    doc.automaticstyles.addElement(bullets)
    doc.automaticstyles.addElement(numbers)
    frame_style = style.Style(name="Chart", family="graphic")
    frame_style.addElement(style.GraphicProperties(anchortype="as-char"))
    doc.automaticstyles.addElement(frame_style)
    def odt_runs(paragraph: Any, value: Inline) -> Any:
        for piece in runs(value):
            target = paragraph
            if piece.bold:
                target = text.Span(stylename=bold)
                paragraph.addElement(target)
            for i, line in enumerate(piece.text.split("\n")):
                if i:
                    target.addElement(text.LineBreak())
                target.addText(line)
        return paragraph

    def odt_list(items: Sequence[Inline], numbered: bool, levels: Sequence[int]) -> Any:
        listing = text.List(stylename=numbers if numbered else bullets)
        # A sub-item goes in a list inside the item above it, as ODF nests lists.
        open_lists = [listing]
        last_item: list[Any] = [None]
        for index, entry in enumerate(items):
            level = min(levels[index] if index < len(levels) else 0, len(open_lists))
            while len(open_lists) > level + 1:
                open_lists.pop()
                last_item.pop()
            if level == len(open_lists) and last_item[-1] is not None:
                sub = text.List()
                last_item[-1].addElement(sub)
                open_lists.append(sub)
                last_item.append(None)
            item = text.ListItem()
            item.addElement(odt_runs(text.P(), entry))
            open_lists[-1].addElement(item)
            last_item[-1] = item
        return listing

    def odt_table(block: Table, number: int) -> Any:
        name = f"Table{number}"
        grid = table.Table(name=name)
        for i, share in enumerate(block.widths()):
            column_style = style.Style(name=f"{name}.C{i}", family="table-column")
            column_style.addElement(style.TableColumnProperties(
                columnwidth=f"{WIDTH_CM * share:.2f}cm"))
            doc.automaticstyles.addElement(column_style)
            grid.addElement(table.TableColumn(stylename=column_style))
        for i, row in enumerate([block.head, *block.rows]):
            line = table.TableRow()
            for value in row:
                cell = table.TableCell(stylename=cell_style, valuetype="string")
                paragraph = text.P()
                if i == 0:
                    paragraph.addElement(text.Span(stylename=bold, text=str(value)))
                else:
                    paragraph.addText(str(value))
                cell.addElement(paragraph)
                line.addElement(cell)
            grid.addElement(line)
        return grid

    lead_style = style.Style(name="Lead", family="paragraph")
    lead_style.addElement(style.ParagraphProperties(keepwithnext="always"))
    doc.automaticstyles.addElement(lead_style)
    keep = leads(document)
    for number, block in enumerate(document):
        if isinstance(block, Section):
            doc.text.addElement(text.H(outlinelevel=2, stylename=headings[2],
                                       text=block.title))
        elif isinstance(block, Heading):
            doc.text.addElement(text.H(outlinelevel=block.level,
                                       stylename=headings[min(block.level, 4)],
                                       text=block.text))
        elif isinstance(block, Para):
            doc.text.addElement(odt_runs(
                text.P(stylename=lead_style) if number in keep else text.P(), block.text))
        elif isinstance(block, Bullets):
            doc.text.addElement(odt_list(block.items, block.numbered, block.levels))
        elif isinstance(block, Facts):
            doc.text.addElement(odt_list(
                [bold_lead(label, f" : {value}") for label, value in block.rows], False, ()))
        elif isinstance(block, Table):
            doc.text.addElement(odt_table(block, number))
        elif isinstance(block, Chart):
            if block.key in charts:
                svg = charts[block.key]
                svg_ref = doc.addPicture(f"Pictures/chart-{block.key}.svg",
                                         "image/svg+xml", svg.encode())
                png_ref = doc.addPicture(f"Pictures/chart-{block.key}.png", "image/png",
                                         _png(svg))
                width = _chart_width(svg)
                frame = draw.Frame(stylename=frame_style, width=f"{width:.2f}cm",
                                   height=f"{width * _ratio(svg):.2f}cm",
                                   anchortype="as-char")
                frame.addElement(draw.Image(href=svg_ref))  # vector first
                frame.addElement(draw.Image(href=png_ref))  # for readers without SVG
                paragraph = text.P()
                paragraph.addElement(frame)
                doc.text.addElement(paragraph)
            doc.text.addElement(odt_table(block.table, number))
            if block.caption:
                doc.text.addElement(text.P(text=block.caption))
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()

"""The compte-rendu as ODT (odfpy; charts as SVG, with a PNG for older readers) and DOCX
(python-docx; charts as high-resolution PNG, since DOCX cannot hold SVG)."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import cairosvg
from docx import Document
from docx.shared import Cm
from odf import draw, style, table, text
from odf.opendocument import OpenDocumentText

from facilitation.exports.blocks import Block, Bullets, Chart, Heading, Para, Table

WIDTH_CM = 16.0


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
    return svg.replace("<svg", f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
                       f'height="{height}" font-family="DejaVu Sans, sans-serif"', 1)


def _ratio(svg: str) -> float:
    box = re.search(r'viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"', svg)
    return float(box.group(2)) / float(box.group(1)) if box else 0.6


def _png(svg: str) -> bytes:
    png: bytes = cairosvg.svg2png(bytestring=svg.encode(), output_width=2400)
    return png


def _item(item: str | tuple[str, str]) -> tuple[str, str]:
    return item if isinstance(item, tuple) else ("", item)


def to_docx(document: Sequence[Block], charts: Mapping[int, str]) -> bytes:
    doc = Document()
    for block in document:
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=min(block.level, 4) - 1 if block.level > 1 else 0)
        elif isinstance(block, Para):
            paragraph = doc.add_paragraph()
            if block.strong:
                paragraph.add_run(block.strong + " ").bold = True
            for i, line in enumerate(block.text.split("\n")):
                run = paragraph.add_run()
                if i:
                    run.add_break()  # a line break typed in a note stays one
                run.add_text(line)
        elif isinstance(block, Bullets):
            for index, entry in enumerate(block.items):
                bold, rest = _item(entry)
                kind = "List Number" if block.numbered else "List Bullet"
                level = block.level(index)
                paragraph = doc.add_paragraph(style=kind + (f" {level + 1}" if level else ""))
                if bold:
                    paragraph.add_run(bold).bold = True
                paragraph.add_run(rest)
        elif isinstance(block, Table):
            grid = doc.add_table(rows=1, cols=len(block.head))
            grid.style = "Table Grid"
            for cell, head in zip(grid.rows[0].cells, block.head, strict=True):
                cell.text = str(head)
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in block.rows:
                cells = grid.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = str(value)
            doc.add_paragraph()
        elif isinstance(block, Chart) and block.question_id in charts:
            doc.add_picture(io.BytesIO(_png(charts[block.question_id])), width=Cm(WIDTH_CM))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_odt(document: Sequence[Block], charts: Mapping[int, str]) -> bytes:
    doc = OpenDocumentText()
    bold = style.Style(name="Bold", family="text")
    bold.addElement(style.TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(bold)
    headings = {}
    for level, size in ((1, "20pt"), (2, "15pt"), (3, "12.5pt"), (4, "11pt")):
        heading = style.Style(name=f"Heading {level}", family="paragraph")
        heading.addElement(style.TextProperties(fontsize=size, fontweight="bold"))
        heading.addElement(style.ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm"))
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
    for number, block in enumerate(document):
        if isinstance(block, Heading):
            doc.text.addElement(text.H(outlinelevel=block.level,
                                       stylename=headings[min(block.level, 4)],
                                       text=block.text))
        elif isinstance(block, Para):
            paragraph = text.P()
            if block.strong:
                paragraph.addElement(text.Span(stylename=bold, text=block.strong + " "))
            for i, line in enumerate(block.text.split("\n")):
                if i:
                    paragraph.addElement(text.LineBreak())
                paragraph.addText(line)
            doc.text.addElement(paragraph)
        elif isinstance(block, Bullets):
            listing = text.List(stylename=numbers if block.numbered else bullets)
            # A sub-item goes in a list inside the item above it, as ODF nests lists.
            open_lists = [listing]
            last_item: list[Any] = [None]
            for index, entry in enumerate(block.items):
                level = min(block.level(index), len(open_lists))
                while len(open_lists) > level + 1:
                    open_lists.pop()
                    last_item.pop()
                if level == len(open_lists) and last_item[-1] is not None:
                    sub = text.List()
                    last_item[-1].addElement(sub)
                    open_lists.append(sub)
                    last_item.append(None)
                strong, rest = _item(entry)
                paragraph = text.P()
                if strong:
                    paragraph.addElement(text.Span(stylename=bold, text=strong))
                paragraph.addText(rest)
                item = text.ListItem()
                item.addElement(paragraph)
                open_lists[-1].addElement(item)
                last_item[-1] = item
            doc.text.addElement(listing)
        elif isinstance(block, Table):
            grid = table.Table(name=f"Table{number}")
            grid.addElement(table.TableColumn(numbercolumnsrepeated=len(block.head)))
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
            doc.text.addElement(grid)
        elif isinstance(block, Chart) and block.question_id in charts:
            svg = charts[block.question_id]
            svg_ref = doc.addPicture(f"Pictures/chart{block.question_id}.svg",
                                     "image/svg+xml", svg.encode())
            png_ref = doc.addPicture(f"Pictures/chart{block.question_id}.png", "image/png",
                                     _png(svg))
            frame = draw.Frame(stylename=frame_style, width=f"{WIDTH_CM}cm",
                               height=f"{WIDTH_CM * _ratio(svg):.2f}cm", anchortype="as-char")
            frame.addElement(draw.Image(href=svg_ref))  # vector first
            frame.addElement(draw.Image(href=png_ref))  # for readers without SVG
            paragraph = text.P()
            paragraph.addElement(frame)
            doc.text.addElement(paragraph)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()

"""Exports safe to open: hostile text typed in a séance (formulas, HTML, javascript: links,
control and bidi-override characters) reaches no format as something that runs, and a
joiner inside a French word is kept."""

import csv
import io
import json
import re
import zipfile

import pytest
from pypdf import PdfReader

from facilitation.exports import markdown
from facilitation.exports.data import inert
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from tests.conftest import csrf_of, go

ZWJ = "\u200d"
RLO = "\u202e"
FORMULAS = ['=HYPERLINK("http://evil.example","clic")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)"]
HTML = "<script>alert(1)</script> [x](javascript:alert(1)) ![i](javascript:alert(2))"
WORD = f"co{ZWJ}opération"
CONTROLS = f"{WORD} \x01du tr{RLO}avail"


@pytest.fixture
def hostile(seance, client):
    go(seance, "proposals")
    base = f"/f/{seance.links['facilitator']}"
    token = csrf_of(client.get(base).text)
    for text in [*FORMULAS, HTML, CONTROLS]:
        r = client.post(f"{base}/proposals", data={"csrf": token, "text": text})
        assert r.status_code in (200, 303), text
    r = client.post(f"{base}/report", data={
        "csrf": token, "intro": f"<img src=x onerror=alert(1)> [clic](javascript:alert(1))"
                                f"\n{CONTROLS}", "conclusion": ""})
    assert r.status_code in (200, 303)
    return base


def no_hidden_characters(text: str, where: str) -> None:
    assert "\x01" not in text and RLO not in text, where


def test_every_format_of_the_report_is_safe_to_open(client, hostile):
    md = client.get(f"{hostile}/report/md").text
    no_hidden_characters(md, "md")
    assert WORD + " du travail" in md
    assert "<script" not in md and "<img" not in md and "&lt;script&gt;" in md
    assert not re.search(r"(?<!\\)\]\(\s*javascript:", md)  # no link, only its text
    assert r"\[x\](javascript:alert(1))" in md

    html = client.get(f"{hostile}/report/html").text
    no_hidden_characters(html, "html")
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and 'href="javascript' not in html
    assert WORD in html

    for fmt, part in (("docx", "word/document.xml"), ("odt", "content.xml")):
        response = client.get(f"{hostile}/report/{fmt}")
        assert response.status_code == 200, fmt
        xml = zipfile.ZipFile(io.BytesIO(response.content)).read(part).decode()
        no_hidden_characters(xml, fmt)
        assert "&lt;script&gt;" in xml and WORD in xml, fmt

    pdf = client.get(f"{hostile}/report/pdf")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    no_hidden_characters(text, "pdf")
    assert "<script>alert(1)</script>" in text  # shown as typed, as text


def test_raw_data_keeps_the_text_and_csv_cells_never_run(client, hostile):
    data = json.loads(client.get(f"{hostile}/report/json").content)
    texts = [p["text"] for p in data["proposals"]]
    assert set(FORMULAS) <= set(texts)  # JSON is data: the text as typed
    assert f"{WORD} du travail" in texts
    no_hidden_characters(json.dumps(data, ensure_ascii=False), "json")

    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{hostile}/report/zip").content))
    for name in archive.namelist():
        raw = archive.read(name).decode("utf-8-sig")
        no_hidden_characters(raw, name)
        for row in csv.reader(io.StringIO(raw)):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                assert not cell.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", cell), \
                    (name, cell)
    proposals = list(csv.DictReader(io.StringIO(
        archive.read("proposals.csv").decode("utf-8-sig"))))
    assert {"'" + f for f in FORMULAS} <= {p["text"] for p in proposals}
    comments = list(csv.DictReader(io.StringIO(archive.read("polis/comments.csv").decode())))
    assert "'=HYPERLINK(\"http://evil.example\",\"clic\")" in {
        c["comment-body"] for c in comments}


def test_text_stored_before_cleaning_still_exports(seance, client, hostile):
    """A database written by an earlier version may hold a control character: the office
    formats, which XML cannot carry it in, still answer."""
    step = next(s for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    seance.call(qp.add_proposal, seance.id, step.id, "ancienne\x01 donnée\x02", "phone")
    for fmt, part in (("docx", "word/document.xml"), ("odt", "content.xml")):
        response = client.get(f"{hostile}/report/{fmt}")
        assert response.status_code == 200, fmt
        xml = zipfile.ZipFile(io.BytesIO(response.content)).read(part).decode()
        assert "ancienne donnée" in xml and "\x01" not in xml


def test_markdown_escape_and_csv_cells():
    assert markdown.escape("<b>*x*</b> [a](javascript:b) &amp; \\") == \
        r"&lt;b&gt;\*x\*&lt;/b&gt; \[a\](javascript:b) &amp;amp; \\"
    assert markdown.escape("Tom & Jerry, 3 > 2") == "Tom & Jerry, 3 &gt; 2"
    assert [inert(v) for v in ("=1+1", "-1", "-2.5", "-x", "@a", "\tx", "a=b", 3, -1, None)] \
        == ["'=1+1", "-1", "-2.5", "'-x", "'@a", "'\tx", "a=b", 3, -1, None]

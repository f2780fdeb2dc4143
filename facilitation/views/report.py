"""The compte-rendu: the page where it is edited, and its downloads."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facilitation import i18n
from facilitation.exports import data, markdown
from facilitation.exports.blocks import Block, Chart, blocks
from facilitation.report import MAX_STEP_NOTE, SECTION_TITLES, SECTIONS, Report, clean_note
from facilitation.seances import Seance
from facilitation.store import queries as q
from facilitation.store import report as qr
from facilitation.views.common import db_of, int_param, seance_for_link
from facilitation.views.organiser import require_organiser
from facilitation.web import read_form, render, render_string

FORMATS = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
           "odt": "application/vnd.oasis.opendocument.text",
           "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "pdf": "application/pdf", "json": "application/json", "zip": "application/zip"}


async def _seance(request: Request) -> tuple[Seance, str]:
    """The séance, from the facilitator's link or the organiser's session; and the page's
    own URL name to come back to."""
    if "token" in request.path_params:
        seance, _token = await seance_for_link(request, "facilitator")
        return seance, "facilitator:report"
    require_organiser(request)
    found = await q.get_session(db_of(request), int_param(request, "session_id"))
    if found is None:
        raise HTTPException(404)
    return found, "organiser:report"


def _language(request: Request, seance: Seance) -> str:
    wanted = request.query_params.get("lang")
    if wanted in i18n.LANGUAGES:
        return str(wanted)
    return seance.language if seance.language in i18n.LANGUAGES else i18n.DEFAULT


async def _report(request: Request, seance: Seance) -> Report:
    report = await qr.build(db_of(request), seance.id,
                            ZoneInfo(request.app.state.settings.timezone))
    assert report is not None  # noqa: S101
    return report


async def show(request: Request) -> Response:
    seance, _name = await _seance(request)
    report = await _report(request, seance)
    tr = i18n.Translator(_language(request, seance))
    return render(request, "pages/report.html", report=report,
                  document=blocks(report, tr, markdown.ANNEX(tr, report)),
                  SECTION_TITLES=SECTION_TITLES, here=request.url.path)


async def edit(request: Request) -> Response:
    """Notes, theme wording, section order and hidden sections; the data stays as it was."""
    seance, _name = await _seance(request)
    form = await read_form(request)
    db = db_of(request)
    edits = await qr.get_edits(db, seance.id)
    move = str(form.get("move", ""))
    if move:
        section, _, direction = move.partition(":")
        if section not in SECTIONS or direction not in ("up", "down"):
            raise HTTPException(422, "move")
        edits = edits.move(section, -1 if direction == "up" else 1)
    else:
        names = {key[6:]: " ".join(str(value).split())[:80]
                 for key, value in form.multi_items() if key.startswith("theme-")
                 and key[6:].isdecimal() and str(value).strip()}
        state = await q.get_state(db, seance.id)
        steps = {str(step.id) for step in state.steps} if state else set()
        step_notes = {key[5:]: " ".join(str(value).split())[:MAX_STEP_NOTE]
                      for key, value in form.multi_items() if key.startswith("step-")
                      and key[5:] in steps and str(value).strip()}
        edits = replace(edits, intro=clean_note(form.get("intro")),
                        conclusion=clean_note(form.get("conclusion")),
                        discussion=clean_note(form.get("discussion")),
                        step_notes=step_notes,
                        hidden=tuple(s for s in SECTIONS if form.get(f"hide-{s}") == "1"),
                        theme_names=names)
    await qr.save_edits(db, seance.id, edits)
    return RedirectResponse(request.url.path, 303)


async def download(request: Request) -> Response:
    seance, _name = await _seance(request)
    fmt = str(request.path_params["fmt"])
    if fmt not in FORMATS:
        raise HTTPException(404)
    report = await _report(request, seance)
    tr = i18n.Translator(_language(request, seance))
    name = report.slug()
    if fmt in ("md", "odt", "docx", "html", "pdf"):
        document = blocks(report, tr, markdown.ANNEX(tr, report))
        body: bytes = await write(request, document, fmt, tr,
                                  f"{report.seance.title} — {report.workshop.title}")
    else:
        raw = await qr.raw_data(db_of(request), seance.id)
        meta = {"id": seance.id, "title": seance.title, "workshop": report.workshop.title,
                "number": seance.number, "date": seance.date, "time": seance.time,
                "place": seance.place, "final": report.final}
        results = [poll.results for poll in report.polls]
        frozen = await qr.frozen_of(db_of(request), seance.id)  # purged: the votes are gone
        votes = frozen.vote_totals if frozen else None
        body = data.to_json(meta, raw, results, votes) if fmt == "json" else data.to_csv_zip(
            raw, results, votes)
        name += "_donnees"
    return Response(body, media_type=FORMATS[fmt], headers={
        "content-disposition": f'attachment; filename="{name}.{fmt}"'})


async def write(request: Request, document: list[Block], fmt: str, tr: i18n.Translator,
                title: str) -> bytes:
    """A document's blocks in one format: the compte-rendu's and the démarche synthesis's
    downloads all go through here. PDF and office files are made in a worker thread."""
    if fmt == "md":
        return markdown.render_blocks(document).encode()
    if fmt in ("html", "pdf"):
        from facilitation.web import path_for

        css = (request.app.state.settings.static_dir / "css" / "report.css").read_text()
        html = render_string(request.app.state.templates, "report/blocks.html", tr,
                             document=document, title=title, css=css,
                             url_for=path_for(request.app))
        return html.encode() if fmt == "html" else await run_in_threadpool(pdf, html)
    from facilitation.exports import office  # odfpy, python-docx, cairosvg: on first use

    charts = chart_svgs(request, document, tr)
    make = office.to_odt if fmt == "odt" else office.to_docx
    return await run_in_threadpool(make, document, charts)


def chart_svgs(request: Request, document: list[Block], tr: i18n.Translator) -> dict[str, str]:
    """Each chart as a standalone SVG file, drawn by the same macro as in the HTML report."""
    from facilitation.exports import office
    from facilitation.web import path_for

    charts = {}
    for block in document:
        if isinstance(block, Chart):
            html = render_string(request.app.state.templates, "report/chart.html", tr,
                                 chart=block, url_for=path_for(request.app))
            svg = office.standalone_svg(html)
            if svg:
                charts[block.key] = svg
    return charts


def pdf(html: str) -> bytes:
    """The HTML report printed to PDF by WeasyPrint: A4, vector charts, fonts embedded."""
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()  # type: ignore[no-any-return]

"""The démarche synthesis as blocks, for every format the séance report has."""

from __future__ import annotations

from collections.abc import Sequence

from facilitation.demarche import OverTime, Recurring
from facilitation.exports.blocks import Block, Bullets, Heading, Para, Table
from facilitation.i18n import Translator
from facilitation.report import Report
from facilitation.seances import Workshop


def blocks(workshop: Workshop, reports: Sequence[Report], over: Sequence[OverTime],
           confirmed: Sequence[Recurring], tr: Translator) -> list[Block]:
    _ = tr.gettext
    out: list[Block] = [Heading(1, workshop.title)]
    if workshop.organisation:
        out.append(Para(workshop.organisation))
    if workshop.objectives:
        out.append(Para(workshop.objectives))
    out.append(Heading(2, _("The séances")))
    for report in reports:
        s = report.seance
        out.append(Heading(3, _("Séance %(number)s", number=s.number) + f" : {s.title}"))
        out.append(Bullets((
            f"{_('Date')} : {tr.date(s.date) or '—'}",
            f"{_('People present')} : {report.presence.total}",
            f"{_('Proposals that reach consensus')} : {len(report.synthesis.consensus)}",
        )))
    out.append(Heading(2, _("Results over time")))
    if not over:
        out.append(Para(_("No question was asked in more than one séance.")))
    for question in over:
        out.append(Heading(3, question.text))
        head = (_("Answer"), *(_("séance %(number)s", number=n) for n in question.numbers))
        rows: list[tuple[object, ...]] = [
            (label, *(tr.percent(p) if p is not None else "—" for p in shares))
            for label, shares in question.rows]
        rows.append(("n", *question.n))
        out.append(Table(head, tuple(rows)))
    out.append(Heading(2, _("All the proposals that reached consensus")))
    agreed = [(r.seance.number, row.item.text) for r in reports for row in r.synthesis.consensus]
    out.append(Bullets(tuple(_("%(text)s (séance %(number)s)", text=t, number=n)
                             for n, t in agreed)) if agreed
               else Para(_("No proposal reaches consensus.")))
    out.append(Heading(2, _("Cross-cutting elements")))
    if not confirmed:
        out.append(Para(_("No cross-cutting element has been confirmed yet.")))
    for element in confirmed:
        out.append(Heading(3, element.title))
        out.append(Bullets(tuple(_("%(text)s (séance %(number)s)", text=t, number=n)
                                 for n, t in element.members)))
    return out

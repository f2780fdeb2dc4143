"""The démarche synthesis as blocks, for every format the séance report has: each séance
held in its own part (objectives, consultation results with their charts, what reached
consensus, what divides), the questions asked in several séances side by side, every
consensus, and the cross-cutting elements the organiser confirmed."""

from __future__ import annotations

from collections.abc import Sequence

from facilitation.demarche import OverTime, Recurring
from facilitation.exports.blocks import (
    Block,
    Bullets,
    Facts,
    Heading,
    Para,
    Section,
    Table,
    in_channel_order,
    poll_blocks,
    rich,
)
from facilitation.i18n import Translator
from facilitation.report import Report
from facilitation.seances import CHANNEL_LABELS, Workshop


def held(report: Report) -> bool:
    """A séance that took place: someone took part, a step was run, or it was closed."""
    return bool(report.final or report.runs or report.presence.joined)


def _seance(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    s, p = report.seance, report.presence
    out: list[Block] = [
        Heading(3, _("Séance %(number)s", number=s.number) + f" : {s.title}"),
        Facts(((_("Date"), tr.date(s.date) or "—"), (_("Time"), report.time_line(tr)),
               (_("Place"), s.place or "—"), (_("People present"), str(p.total)),
               (_("Joined"), f"{p.joined}" + (" (" + ", ".join(
                   f"{_(CHANNEL_LABELS.get(c, c))} : {n}"
                   for c, n in in_channel_order(dict(p.by_channel)))
                   + ")" if p.by_channel else ""))))]
    if s.objectives:
        out += [Heading(4, _("Objectives and agenda")), *rich(s.objectives)]
    if report.polls:
        out.append(Heading(4, _("Flash poll results")))
        for poll in report.polls:
            out += poll_blocks(poll.results, dict(poll.channels), tr, level=5)
    synthesis = report.synthesis
    if synthesis.consensus:
        out += [Heading(4, _("Proposals that reach consensus")),
                Bullets(tuple(row.item.text for row in synthesis.consensus))]
    if synthesis.divisive:
        out += [Heading(4, _("What divides the room: to deepen")),
                Bullets(tuple(row.item.text for row in synthesis.divisive))]
    if synthesis.priorities:
        out += [Heading(4, _("Top priorities")),
                Bullets(tuple(row.item.text for row in synthesis.priorities), numbered=True)]
    return out


def blocks(workshop: Workshop, reports: Sequence[Report], over: Sequence[OverTime],
           confirmed: Sequence[Recurring], tr: Translator) -> list[Block]:
    _ = tr.gettext
    out: list[Block] = [Heading(1, workshop.title)]
    if workshop.organisation:
        out.append(Para(workshop.organisation))
    out += rich(workshop.objectives)
    done = [report for report in reports if held(report)]
    out.append(Section("seances", _("The séances")))
    if not done:
        out.append(Para(_("No séance has taken place yet.")))
    for report in done:
        out += _seance(report, tr)
    if over:
        out.append(Section("over-time", _("Results over time")))
    for question in over:
        out.append(Heading(3, question.text))
        head = (_("Answer"), *(_("séance %(number)s", number=n) for n in question.numbers))
        rows: list[tuple[object, ...]] = [
            (label, *(tr.percent(p) if p is not None else "—" for p in shares))
            for label, shares in question.rows]
        rows.append(("n", *question.n))
        out.append(Table(head, tuple(rows)))
    agreed = [(r.seance.number, row.item.text) for r in done for row in r.synthesis.consensus]
    if agreed:
        out += [Section("consensus", _("All the proposals that reached consensus")),
                Bullets(tuple(_("%(text)s (séance %(number)s)", text=t, number=n)
                              for n, t in agreed))]
    if confirmed:
        out.append(Section("crosscutting", _("Cross-cutting elements")))
    for element in confirmed:
        out.append(Heading(3, element.title))
        out.append(Bullets(tuple(_("%(text)s (séance %(number)s)", text=t, number=n)
                                 for n, t in element.members)))
    return out

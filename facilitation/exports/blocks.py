"""The compte-rendu as a list of simple blocks (headings, paragraphs, lists, tables,
charts), which each format then writes in its own way: Markdown, ODT, DOCX."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from facilitation import richtext
from facilitation.i18n import Translator
from facilitation.proposals import Proposal
from facilitation.report import SECTION_TITLES, Report
from facilitation.seances import CHANNEL_LABELS, STEP_LABELS
from facilitation.tallies import ChoiceResults, MatrixResults, RankingResults, TextResults
from facilitation.voting import GRADES, Row, Synthesis


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    strong: str = ""  # a bold lead-in, written before the text


@dataclass(frozen=True)
class Bullets:
    items: tuple[str | tuple[str, str], ...]  # a text, or (bold part, rest)
    numbered: bool = False
    levels: tuple[int, ...] = ()  # per item, from 0 (a sub-list's items are 1); none: all 0

    def level(self, index: int) -> int:
        return self.levels[index] if index < len(self.levels) else 0


def rich(text: str) -> list[Para | Bullets]:
    """A note or the objectives as typed: paragraphs (line breaks kept as "\\n" in the
    text) and lists with their levels."""
    out: list[Para | Bullets] = []
    for part in richtext.parse(text):
        if isinstance(part, richtext.Paragraph):
            out.append(Para("\n".join(part.lines)))
        else:
            out.append(Bullets(tuple(item for _level, item in part.items), part.numbered,
                               tuple(level for level, _item in part.items)))
    return out


@dataclass(frozen=True)
class Table:
    head: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


@dataclass(frozen=True)
class Chart:
    question_id: int  # the chart is drawn from this question's results
    title: str


Block = Heading | Para | Bullets | Table | Chart


def blocks(report: Report, tr: Translator, annex: str) -> list[Block]:
    _ = tr.gettext
    seance = report.seance
    out: list[Block] = [
        Heading(1, seance.title),
        Para(f"{report.workshop.title} — " + _("séance %(number)s", number=seance.number)
             + " — " + (_("final report") if report.final else _("draft"))),
        *(Para(_("Séance reopened on %(date)s at %(time)s by the organisation.",
                 date=tr.date(at.date().isoformat()), time=tr.time(at.strftime("%H:%M"))))
          for at in report.reopened),
    ]
    sections: dict[str, Callable[[], list[Block]]] = {
        "summary": lambda: _summary(report, tr), "agenda": lambda: _agenda(report, tr),
        "method": lambda: _method(report, tr), "poll": lambda: _poll(report, tr),
        "exchanges": lambda: _exchanges(report, tr),
        "decisions": lambda: _decisions(report, tr), "notes": lambda: _notes(report, tr),
        "next": lambda: _next(report, tr),
        "annex": lambda: [Bullets(tuple(line[2:] for line in annex.split("\n")))],
    }
    for key in report.sections:
        out.append(Heading(2, _(SECTION_TITLES[key])))
        out += sections[key]()
    return out


def _summary(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    s, p = report.seance, report.presence
    items: list[str | tuple[str, str]] = [
        f"{_('Date')} : {tr.date(s.date) or '—'}", f"{_('Time')} : {report.time_line(tr)}",
        f"{_('Place')} : {s.place or '—'}",
        f"{_('People present')} : {p.total}"
        + (f" ({_('counted by the facilitator')})" if p.headcount is not None else ""),
        f"{_('Joined')} : {p.joined}" + (" (" + ", ".join(
            f"{_(CHANNEL_LABELS.get(c, c))} : {n}" for c, n in p.by_channel.items()) + ")"
            if p.by_channel else "")]
    if report.double_entry_line(tr):
        items.append(f"{_('Paper cards typed twice')} : {report.double_entry_line(tr)}")
    if report.next_seance:
        n = report.next_seance
        items.append(f"{_('Next séance')} : {n.title}, {tr.date(n.date) or '—'}"
                     f"{', ' + tr.time(n.time) if n.time else ''}"
                     f"{', ' + n.place if n.place else ''}")
    return [Bullets(tuple(items))]


def _agenda(report: Report, tr: Translator) -> list[Block]:
    out: list[Block] = [*rich(report.seance.objectives)]
    if report.agenda:
        out.append(Bullets(report.agenda))
    return out


def _method(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    return [Table((_("Step"), _("Start"), _("Duration")), tuple(
        (run.step.title or _(STEP_LABELS[run.step.kind]), run.started.strftime("%H:%M"),
         _("%(minutes)s min", minutes=run.minutes) if run.minutes is not None else "—")
        for run in report.runs))]


def _poll(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    out: list[Block] = []
    for poll in report.polls:
        r = poll.results
        channels = ", ".join(f"{_(CHANNEL_LABELS.get(c, c))} : {n}"
                             for c, n in sorted(poll.channels.items()))
        out += [Heading(3, r.question.text),
                Para(f"n = {r.n}" + (f" ({channels})" if channels else "")),
                Chart(r.question.id, r.question.text)]
        if isinstance(r, ChoiceResults):
            out.append(Table((_("Answer"), _("Count"), _("Percent")), tuple(
                (b.choice.label, b.count, tr.percent(b.percent)) for b in r.bars)))
            if r.mean is not None:
                out.append(Para(_("mean %(mean)s · median %(median)s",
                                  mean=tr.number(r.mean, 1),
                                  median=tr.number(r.median or 0, 1))))
        elif isinstance(r, MatrixResults):
            out.append(Table((_("Item"), *r.question.settings.levels, "n"), tuple(
                (row.item.label, *row.counts, row.n) for row in r.rows)))
        elif isinstance(r, RankingResults):
            out.append(Table((_("Option"), _("Points"), _("Mean rank")), tuple(
                (row.choice.label, row.points, tr.number(row.mean_rank, 1))
                for row in r.rows)))
        elif isinstance(r, TextResults):
            out.append(Table((_("Word"), _("Count"), _("Forms used")), tuple(
                (g.word, g.count, ", ".join(g.forms)) for g in r.visible[:30])))
    return out


def _card(p: Proposal, tr: Translator) -> str:
    extra = []
    if p.count > 1:
        extra.append(tr.gettext("×%(count)s merged", count=p.count))
    if p.subgroup:
        extra.append(p.subgroup)
    return p.text + (f" ({', '.join(extra)})" if extra else "")


def _exchanges(report: Report, tr: Translator) -> list[Block]:
    out: list[Block] = []
    for block in report.themes:
        out += [Heading(3, block.name), Bullets(tuple(_card(p, tr) for p in block.proposals))]
    if report.unsorted:
        out += [Heading(3, tr.gettext("Unsorted")),
                Bullets(tuple(_card(p, tr) for p in report.unsorted))]
    return out


def _figures(row: Row, tr: Translator) -> str:
    assert row.verdict is not None  # noqa: S101
    t = row.verdict.tally
    return tr.gettext("%(agree)s agree · %(pass)s pass · %(disagree)s disagree (n = %(n)s)",
                      agree=t.agree, disagree=t.disagree, n=t.n, **{"pass": t.passes})


def _decisions(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    rule, s = report.rule, report.synthesis
    out: list[Block] = []
    if not s.agree_vote_held:  # dot voting or majority judgment alone: no rule to state
        return _ranked(s, tr)
    out += [Para(tr.ngettext(
        "Consensus: at least %(agree)s agree, at most %(disagree)s disagree, with at least "
        "%(num)s vote.",
        "Consensus: at least %(agree)s agree, at most %(disagree)s disagree, with at least "
        "%(num)s votes.", rule.min_votes, agree=tr.percent(rule.min_agree * 100),
        disagree=tr.percent(rule.max_disagree * 100)))]
    out.append(Bullets(tuple((r.item.text, " — " + _figures(r, tr)) for r in s.consensus))
               if s.consensus else Para(_("No proposal reaches consensus.")))
    if s.divisive:
        out += [Heading(3, _("What divides the room: to deepen")),
                Bullets(tuple(f"{r.item.text} — {_figures(r, tr)}" for r in s.divisive))]
    if s.no_consensus:
        out += [Heading(3, _("No consensus")),
                Bullets(tuple(f"{r.item.text} — {_figures(r, tr)}" for r in s.no_consensus))]
    return out + _ranked(s, tr)


def _ranked(s: Synthesis, tr: Translator) -> list[Block]:
    _ = tr.gettext
    out: list[Block] = []
    if s.priorities:
        out += [Heading(3, _("Top priorities")), Bullets(tuple(
            f"{r.item.text} — " + (tr.ngettext("%(num)s point", "%(num)s points", r.points)
                                   if s.priorities_method == "dots"
                                   else _(GRADES[r.majority or 0]))
            for r in s.priorities), numbered=True)]
    if s.too_few:
        out += [Heading(3, _("Too few votes to say")),
                Bullets(tuple(f"{r.item.text} — {_figures(r, tr)}" for r in s.too_few))]
    return out


def _notes(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    out: list[Block] = []
    for title, text in ((_("Introduction"), report.edits.intro),
                        (_("Conclusion"), report.edits.conclusion)):
        if text:
            out += [Heading(3, title), *rich(text)]
    return out


def _next(report: Report, tr: Translator) -> list[Block]:
    return [Bullets(report.next_agenda)]

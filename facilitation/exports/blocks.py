"""The compte-rendu as one document model: a list of simple blocks (sections, headings,
paragraphs, lists, facts, tables, charts). Every format writes the same blocks in its own
way: HTML and PDF (templates/report/blocks.html), Markdown, ODT and DOCX. A section is
spelled out once, here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from facilitation import richtext
from facilitation.i18n import Translator
from facilitation.proposals import Proposal
from facilitation.report import SECTION_TITLES, Report, VoteRun
from facilitation.seances import CHANNEL_LABELS, STEP_LABELS
from facilitation.tallies import ChoiceResults, MatrixResults, RankingResults, Results, TextResults
from facilitation.voting import GRADES, ConsensusRule, Row, Synthesis


@dataclass(frozen=True)
class Run:
    """A piece of text, bold or not."""

    text: str  # may hold "\n": a line break kept from what was typed
    bold: bool = False


Inline = str | tuple[Run, ...]


def runs(value: Inline) -> tuple[Run, ...]:
    return (Run(value),) if isinstance(value, str) else value


def plain(value: Inline) -> str:
    return value if isinstance(value, str) else "".join(run.text for run in value)


def bold_lead(lead: str, rest: str) -> tuple[Run, ...]:
    return (Run(lead, True), Run(rest))


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Section:
    """Opens a section of the report: a level-2 heading, named by its key."""

    key: str
    title: str


@dataclass(frozen=True)
class Para:
    text: Inline


@dataclass(frozen=True)
class Bullets:
    items: tuple[Inline, ...]
    numbered: bool = False
    levels: tuple[int, ...] = ()  # per item, from 0 (a sub-list's items are 1); none: all 0

    def level(self, index: int) -> int:
        return self.levels[index] if index < len(self.levels) else 0


@dataclass(frozen=True)
class Facts:
    """Label and value pairs: the séance's date, time, place, people."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    head: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]

    LINE = 80  # characters of body text across an A4 page's column, about

    def widths(self) -> tuple[float, ...]:
        """Each column's share of the width, from what it holds: a column of short cells
        (times, figures) gets all it needs to stay on one line, and the columns of
        sentences share the rest, never narrower than their longest word."""
        pad = 3  # a cell's padding and borders, in characters
        natural: list[int] = []
        floor: list[int] = []
        typical: list[float] = []
        for i, head in enumerate(self.head):
            cells = [str(row[i]) for row in self.rows if i < len(row)]
            head_words = [round(len(w) * 1.2) for w in str(head).split()]  # bold
            longest = max([len(w) for cell in cells for w in cell.split()] + head_words
                          + [1])
            natural.append(max([len(cell) for cell in cells] + [sum(head_words)]) + pad)
            floor.append(longest + pad)
            typical.append(max(min(sum(map(len, cells)) / max(len(cells), 1), 40.0),
                               longest) + pad)
        weights: list[float]
        if sum(natural) <= self.LINE:
            weights = [float(n) for n in natural]
        else:
            short = [n <= 14 + pad for n in natural]
            room = max(self.LINE - sum(n for n, s in zip(natural, short, strict=True) if s),
                       1)
            wide = sum(t for t, s in zip(typical, short, strict=True) if not s) or 1
            weights = [n if s else max(f, t / wide * room)
                       for n, f, t, s in zip(natural, floor, typical, short, strict=True)]
        total = sum(weights)
        return tuple(w / total for w in weights)


@dataclass(frozen=True)
class Chart:
    """A figure, with the table of the same figures for every reader and every format."""

    key: str  # names the picture in a file: "q12" for a question, "v7" for a vote step
    title: str
    results: Any  # tallies.Results (a question) or voting.VoteResults (a vote)
    table: Table
    rule: ConsensusRule | None = None  # for a vote
    caption: str = ""  # a line under the figure (HTML charts write it themselves)


Block = Section | Heading | Para | Bullets | Facts | Table | Chart


def rich(text: str) -> list[Para | Bullets]:
    """A note or the objectives as typed: paragraphs (line breaks kept as "\\n"), lists with
    their levels, bold."""
    out: list[Para | Bullets] = []
    for part in richtext.parse(text):
        if isinstance(part, richtext.Paragraph):
            out.append(Para(_inline("\n".join(part.lines))))
        else:
            out.append(Bullets(tuple(_inline(item) for _level, item in part.items),
                               part.numbered, tuple(level for level, _item in part.items)))
    return out


def _inline(text: str) -> Inline:
    found = richtext.inline(text)
    if len(found) == 1 and not found[0][1]:
        return text
    return tuple(Run(t, b) for t, b in found)


def grouped(document: Sequence[Block]) -> list[tuple[Section | None, list[Block]]]:
    """The blocks by section, for formats that wrap a section (HTML)."""
    out: list[tuple[Section | None, list[Block]]] = [(None, [])]
    for block in document:
        if isinstance(block, Section):
            out.append((block, []))
        else:
            out[-1][1].append(block)
    return [group for group in out if group[0] is not None or group[1]]


def kept(parts: Sequence[Block]) -> list[list[Block]]:
    """Blocks that a page must not separate: a heading, the short paragraphs under it and
    the chart or table they introduce (a chart does not break, so without this it would go
    to the next page alone and leave its heading at the bottom of the last)."""
    out: list[list[Block]] = []
    lead: list[Block] = []
    for block in parts:
        if isinstance(block, Heading) or (lead and isinstance(block, Para)):
            lead.append(block)
            continue
        if lead and isinstance(block, Chart | Table):
            out.append([*lead, block])
        else:
            out += [[b] for b in lead]
            out.append([block])
        lead = []
    out += [[b] for b in lead]
    return out


def leads(document: Sequence[Block]) -> set[int]:
    """The paragraphs that sit between a heading and what it introduces ("n = 18" before a
    chart): office formats keep them with the next block, as they keep headings."""
    found = set()
    for i, block in enumerate(document):
        if isinstance(block, Para) and i and (
                isinstance(document[i - 1], Heading | Section) or i - 1 in found):
            found.add(i)
    return found


def blocks(report: Report, tr: Translator, annex: str) -> list[Block]:
    _ = tr.gettext
    seance = report.seance
    kind = _("final report") if report.final else _("draft")
    title_line = " — ".join(part for part in (
        report.workshop.organisation, report.workshop.title,
        _("séance %(number)s", number=seance.number), kind) if part)
    out: list[Block] = [
        Heading(1, seance.title),
        Para(title_line),
        *(Para(_("Séance reopened on %(date)s at %(time)s by the organisation.",
                 date=tr.date(at.date().isoformat()), time=tr.time(at.strftime("%H:%M"))))
          for at in report.reopened),
    ]
    sections: dict[str, Callable[[], list[Block]]] = {
        "summary": lambda: _summary(report, tr), "agenda": lambda: _agenda(report, tr),
        "method": lambda: _method(report, tr),
        "discussion": lambda: [*rich(report.edits.discussion)],
        "poll": lambda: _poll(report, tr), "exchanges": lambda: _exchanges(report, tr),
        "decisions": lambda: _decisions(report, tr), "votes": lambda: _votes(report, tr),
        "notes": lambda: _notes(report, tr), "next": lambda: _next(report, tr),
        "annex": lambda: [Bullets(tuple(line[2:] for line in annex.split("\n")))],
    }
    for key in report.sections:
        out.append(Section(key, _(SECTION_TITLES[key])))
        out += sections[key]()
    return out


def in_channel_order(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Phone, paper, aloud, SMS: the same order wherever channels are counted."""
    order = list(CHANNEL_LABELS)
    return sorted(counts.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                  else len(order), kv[0]))


def _summary(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    s, p = report.seance, report.presence
    rows = [(_("Date"), tr.date(s.date) or "—"), (_("Time"), report.time_line(tr)),
            (_("Place"), s.place or "—"),
            (_("People present"), f"{p.total}" + (
                f" ({_('counted by the facilitator')})" if p.headcount is not None else "")),
            (_("Joined"), f"{p.joined}" + (" (" + ", ".join(
                f"{_(CHANNEL_LABELS.get(c, c))} : {n}"
                for c, n in in_channel_order(dict(p.by_channel))) + ")"
                if p.by_channel else ""))]
    if report.double_entry_line(tr):
        rows.append((_("Paper cards typed twice"), report.double_entry_line(tr)))
    if report.next_seance:
        n = report.next_seance
        rows.append((_("Next séance"), f"{n.title}, {tr.date(n.date) or '—'}"
                     f"{', ' + tr.time(n.time) if n.time else ''}"
                     f"{', ' + n.place if n.place else ''}"))
    return [Facts(tuple(rows))]


def _agenda(report: Report, tr: Translator) -> list[Block]:
    out: list[Block] = [*rich(report.seance.objectives)]
    if report.agenda:
        out.append(agenda_list(report.agenda))
    return out


def _method(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    notes = report.edits.step_notes
    said = any(notes.get(str(run.step.id)) for run in report.runs)
    head = (_("Step"), _("Start"), _("Duration"), *((_("What happened"),) if said else ()))
    return [Table(head, tuple(
        (run.step.title or _(STEP_LABELS[run.step.kind]), run.started.strftime("%H:%M"),
         _("%(minutes)s min", minutes=run.minutes) if run.minutes is not None else "—",
         *((notes.get(str(run.step.id), ""),) if said else ()))
        for run in report.runs))]


def _poll_table(r: Results, tr: Translator) -> Table:
    _ = tr.gettext
    if isinstance(r, ChoiceResults):
        return Table((_("Answer"), _("Count"), _("Percent")), tuple(
            (b.choice.label, b.count, tr.percent(b.percent)) for b in r.bars))
    if isinstance(r, MatrixResults):
        return Table((_("Item"), *r.question.settings.levels, "n"), tuple(
            (row.item.label, *row.counts, row.n) for row in r.rows))
    if isinstance(r, RankingResults):
        return Table((_("Option"), _("Points"), _("Mean rank")), tuple(
            (row.choice.label, row.points, tr.number(row.mean_rank, 1)) for row in r.rows))
    assert isinstance(r, TextResults)  # noqa: S101
    return Table((_("Word"), _("Count"), _("Forms used")), tuple(
        (g.word, g.count, ", ".join(g.forms)) for g in r.visible[:30]))


def poll_blocks(r: Results, channels: dict[str, int] | None, tr: Translator,
                level: int = 3) -> list[Block]:
    """One question's results: its text, n (by channel), the chart and its table."""
    _ = tr.gettext
    by_channel = ", ".join(f"{_(CHANNEL_LABELS.get(c, c))} : {n}"
                           for c, n in in_channel_order(channels or {}))
    caption = _("mean %(mean)s · median %(median)s", mean=tr.number(r.mean, 1),
                median=tr.number(r.median or 0, 1)) \
        if isinstance(r, ChoiceResults) and r.mean is not None else ""
    return [Heading(level, r.question.text),
            Para(f"n = {r.n}" + (f" ({by_channel})" if by_channel else "")),
            Chart(f"q{r.question.id}", r.question.text, r, _poll_table(r, tr),
                  caption=caption)]


def _poll(report: Report, tr: Translator) -> list[Block]:
    out: list[Block] = []
    for poll in report.polls:
        out += poll_blocks(poll.results, dict(poll.channels), tr)
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
        if block.proposals:
            out += [Heading(3, block.name),
                    Bullets(tuple(_card(p, tr) for p in block.proposals))]
    if report.unsorted:
        out += [Heading(3, tr.gettext("Unsorted")),
                Bullets(tuple(_card(p, tr) for p in report.unsorted))]
    return out


def _figures(row: Row, tr: Translator) -> str:
    assert row.verdict is not None  # noqa: S101
    t = row.verdict.tally
    return tr.gettext("%(agree)s agree · %(pass)s pass · %(disagree)s disagree (n = %(n)s)",
                      agree=t.agree, disagree=t.disagree, n=t.n, **{"pass": t.passes})


def rule_line(rule: ConsensusRule, tr: Translator) -> str:
    line = tr.ngettext(
        "Consensus: at least %(agree)s agree, at most %(disagree)s disagree, with at least "
        "%(num)s vote.",
        "Consensus: at least %(agree)s agree, at most %(disagree)s disagree, with at least "
        "%(num)s votes.", rule.min_votes, agree=tr.percent(rule.min_agree * 100),
        disagree=tr.percent(rule.max_disagree * 100))
    if rule.every_subgroup:
        line += " " + tr.ngettext("The same in every table where at least %(num)s person "
                                  "voted.",
                                  "The same in every table where at least %(num)s people "
                                  "voted.", rule.min_votes)
    return line


def _decisions(report: Report, tr: Translator) -> list[Block]:
    _ = tr.gettext
    s = report.synthesis
    if not s.agree_vote_held:  # dot voting or majority judgment alone: no rule to state
        return _ranked(s, tr)
    out: list[Block] = [Para(rule_line(report.rule, tr))]
    out.append(Bullets(tuple(bold_lead(r.item.text, " — " + _figures(r, tr))
                             for r in s.consensus))
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


def short(text: str, limit: int = 90) -> str:
    """A long item cut between words, for a chart's table: the full text is in the
    proposals and decisions sections."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


def _vote_table(run: VoteRun, tr: Translator) -> Table:
    _ = tr.gettext
    r = run.results
    if r.method == "agree":
        tallies = [(row.item.text, row.verdict.tally) for row in r.rows if row.verdict]
        return Table((_("Item"), _("Agree"), _("Pass"), _("Disagree"), "n"), tuple(
            (f"{number}. {short(text)}", t.agree, t.passes, t.disagree, t.n)
            for number, (text, t) in enumerate(tallies, start=1)))
    if r.method == "dots":
        return Table((_("Rank"), _("Item"), _("Points")), tuple(
            (row.rank, short(row.item.text), row.points) for row in r.rows))
    return Table((_("Rank"), _("Item"), _("Majority grade"), *(_(g) for g in GRADES)), tuple(
        (row.rank, short(row.item.text),
         _(GRADES[row.majority]) if row.majority is not None else "—", *row.grades)
        for row in r.rows))


def vote_blocks(run: VoteRun, rule: ConsensusRule, tr: Translator,
                level: int = 3) -> list[Block]:
    _ = tr.gettext
    title = run.step.title or _(STEP_LABELS[run.step.kind])
    return [Heading(level, title),
            Para(tr.ngettext("%(num)s voter", "%(num)s voters", run.results.voters)),
            Chart(f"v{run.step.id}", title, run.results, _vote_table(run, tr), rule)]


def _votes(report: Report, tr: Translator) -> list[Block]:
    out: list[Block] = []
    for run in report.votes:
        out += vote_blocks(run, report.rule, tr)
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
    return [agenda_list(report.next_agenda)]


def agenda_list(items: Sequence[str]) -> Bullets:
    """Agenda items, a sub-item kept with two spaces per level before its text."""
    return Bullets(tuple(item.strip() for item in items),
                   levels=tuple((len(item) - len(item.lstrip(" "))) // 2 for item in items))

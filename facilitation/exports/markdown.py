"""The compte-rendu as Markdown: plain text that reads well and diffs well."""

from __future__ import annotations

from collections.abc import Callable

from facilitation.i18n import Translator
from facilitation.report import SECTION_TITLES, Report
from facilitation.seances import CHANNEL_LABELS, STEP_LABELS
from facilitation.tallies import ChoiceResults, MatrixResults, RankingResults, TextResults
from facilitation.voting import GRADES, Row


def _table(head: list[str], rows: list[list[object]]) -> list[str]:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def render(report: Report, tr: Translator) -> str:
    _ = tr.gettext
    seance = report.seance
    out = [f"# {seance.title}", "",
           f"{report.workshop.title} — " + _("séance %(number)s", number=seance.number)
           + " — " + (_("final report") if report.final else _("draft")), ""]
    sections: dict[str, Callable[[], list[str]]] = {
        "summary": lambda: _summary(report, tr), "agenda": lambda: _agenda(report, tr),
        "method": lambda: _method(report, tr), "poll": lambda: _poll(report, tr),
        "exchanges": lambda: _exchanges(report, tr),
        "decisions": lambda: _decisions(report, tr), "notes": lambda: _notes(report, tr),
        "next": lambda: _next(report, tr), "annex": lambda: _annex(report, tr),
    }
    for key in report.sections:
        out += [f"## {_(SECTION_TITLES[key])}", ""] + sections[key]()
    return "\n".join(out).rstrip() + "\n"


def _summary(report: Report, tr: Translator) -> list[str]:
    _ = tr.gettext
    s, p = report.seance, report.presence
    lines = [f"- {_('Date')} : {tr.date(s.date) or '—'}",
             f"- {_('Time')} : {tr.time(s.time) or '—'}",
             f"- {_('Place')} : {s.place or '—'}",
             f"- {_('People present')} : {p.total}" + (" (" + ", ".join(
                 f"{_(CHANNEL_LABELS.get(c, c))} : {n}" for c, n in p.by_channel.items())
                 + ")" if p.by_channel else "")]
    if report.next_seance:
        n = report.next_seance
        lines.append(f"- {_('Next séance')} : {n.title}, {tr.date(n.date) or '—'}"
                     f"{', ' + tr.time(n.time) if n.time else ''}"
                     f"{', ' + n.place if n.place else ''}")
    return lines + [""]


def _agenda(report: Report, tr: Translator) -> list[str]:
    lines = [report.seance.objectives, ""] if report.seance.objectives else []
    lines += [f"- {item}" for item in report.agenda]
    return (lines or [tr.gettext("No objectives were given.")]) + [""]


def _method(report: Report, tr: Translator) -> list[str]:
    _ = tr.gettext
    if not report.runs:
        return [_("No step has been run yet."), ""]
    return _table([_("Step"), _("Start"), _("Duration")], [
        [run.step.title or _(STEP_LABELS[run.step.kind]),
         run.started.strftime("%H:%M"),
         _("%(minutes)s min", minutes=run.minutes) if run.minutes is not None else "—"]
        for run in report.runs])


def _poll(report: Report, tr: Translator) -> list[str]:
    _ = tr.gettext
    if not report.polls:
        return [_("No question was asked."), ""]
    lines: list[str] = []
    for poll in report.polls:
        r = poll.results
        channels = ", ".join(f"{_(CHANNEL_LABELS.get(c, c))} : {n}"
                             for c, n in sorted(poll.channels.items()))
        lines += [f"### {r.question.text}", "",
                  f"n = {r.n}" + (f" ({channels})" if channels else ""), ""]
        if isinstance(r, ChoiceResults):
            lines += _table([_("Answer"), _("Count"), _("Percent")],
                            [[b.choice.label, b.count, tr.percent(b.percent)] for b in r.bars])
            if r.mean is not None:
                lines += [_("mean %(mean)s · median %(median)s", mean=tr.number(r.mean, 1),
                            median=tr.number(r.median or 0, 1)), ""]
        elif isinstance(r, MatrixResults):
            lines += _table([_("Item"), *r.question.settings.levels, "n"],
                            [[row.item.label, *row.counts, row.n] for row in r.rows])
        elif isinstance(r, RankingResults):
            lines += _table([_("Option"), _("Points"), _("Mean rank")],
                            [[row.choice.label, row.points, tr.number(row.mean_rank, 1)]
                             for row in r.rows])
        elif isinstance(r, TextResults):
            lines += _table([_("Word"), _("Count"), _("Forms used")],
                            [[g.word, g.count, ", ".join(g.forms)] for g in r.visible[:30]])
    return lines


def _card(p: object, tr: Translator) -> str:
    from facilitation.proposals import Proposal

    assert isinstance(p, Proposal)  # noqa: S101
    extra = []
    if p.count > 1:
        extra.append(tr.gettext("×%(count)s merged", count=p.count))
    if p.subgroup:
        extra.append(p.subgroup)
    return f"- {p.text}" + (f" ({', '.join(extra)})" if extra else "")


def _exchanges(report: Report, tr: Translator) -> list[str]:
    lines: list[str] = []
    for block in report.themes:
        lines += [f"### {block.name}", ""] + [_card(p, tr) for p in block.proposals] + [""]
    if report.unsorted:
        lines += [f"### {tr.gettext('Unsorted')}", ""]
        lines += [_card(p, tr) for p in report.unsorted] + [""]
    return lines or [tr.gettext("No proposal yet."), ""]


def _figures(row: Row, tr: Translator) -> str:
    assert row.verdict is not None  # noqa: S101
    t = row.verdict.tally
    return tr.gettext("%(agree)s agree · %(pass)s pass · %(disagree)s disagree (n = %(n)s)",
                      agree=t.agree, disagree=t.disagree, n=t.n, **{"pass": t.passes})


def _decisions(report: Report, tr: Translator) -> list[str]:
    _ = tr.gettext
    rule = report.rule
    s = report.synthesis
    lines = [_("Consensus: at least %(agree)s agree, at most %(disagree)s disagree, with at "
               "least %(votes)s votes.", agree=tr.percent(rule.min_agree * 100),
               disagree=tr.percent(rule.max_disagree * 100), votes=rule.min_votes), ""]
    lines += [f"- **{r.item.text}** — {_figures(r, tr)}" for r in s.consensus] or [
        _("No proposal reaches consensus.")]
    lines.append("")
    if s.divisive:
        lines += [f"### {_('What divides the room: to deepen')}", ""]
        lines += [f"- {r.item.text} — {_figures(r, tr)}" for r in s.divisive] + [""]
    if s.priorities:
        lines += [f"### {_('Top priorities')}", ""]
        for r in s.priorities:
            value = (tr.ngettext("%(num)s point", "%(num)s points", r.points)
                     if s.priorities_method == "dots" else _(GRADES[r.majority or 0]))
            lines.append(f"{r.rank}. {r.item.text} — {value}")
        lines.append("")
    if s.too_few:
        lines += [f"### {_('Too few votes to say')}", ""]
        lines += [f"- {r.item.text} — {_figures(r, tr)}" for r in s.too_few] + [""]
    return lines


def _notes(report: Report, tr: Translator) -> list[str]:
    _ = tr.gettext
    lines = []
    if report.edits.intro:
        lines += [f"### {_('Introduction')}", "", report.edits.intro, ""]
    if report.edits.conclusion:
        lines += [f"### {_('Conclusion')}", "", report.edits.conclusion, ""]
    return lines or [_("No notes."), ""]


def _next(report: Report, tr: Translator) -> list[str]:
    if not report.next_seance:
        return [tr.gettext("The next séance is not planned yet."), ""]
    return [f"- {item}" for item in report.next_agenda] + [""] if report.next_agenda else [
        tr.gettext("No agenda yet."), ""]


def _annex(report: Report, tr: Translator) -> list[str]:
    return [line for line in ANNEX(tr).split("\n")] + [""]


def ANNEX(tr: Translator) -> str:  # noqa: N802 - a text, shared with the HTML report
    _ = tr.gettext
    return "\n".join([
        "- " + _("n is the number of people who answered a question; percentages are of n, "
                 "so a multiple choice can add up to more than 100 %."),
        "- " + _("Free text: French stop words are removed and inflected forms grouped "
                 "(Snowball stemming); a word counts once per person."),
        "- " + _("Ranking: Borda count, with k options a first place earns k − 1 points "
                 "and the last 0."),
        "- " + _("Consensus: the share of votes that agree and that disagree, passes "
                 "included, compared with the séance's rule."),
        "- " + _("Majority judgment: items are ranked by their majority grade (the median); a "
                 "tie is broken by removing that grade once from each tied item and "
                 "comparing again."),
        "- " + _("Phone, paper and spoken contributions count the same; the channel is "
                 "kept."),
    ])

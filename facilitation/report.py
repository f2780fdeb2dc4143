"""The compte-rendu of a séance, built from what happened. Pure: data in, report out.

The raw data never changes; what people edit before export (notes, the wording of themes,
the order of sections, hidden sections) is kept apart as `Edits` and applied here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from facilitation import polls, snapshot, tallies, voting
from facilitation.i18n_keys import N_
from facilitation.proposals import Proposal, Theme
from facilitation.seances import Presence, Seance, Step, Workshop
from facilitation.tallies import Results
from facilitation.text import clean
from facilitation.voting import ConsensusRule, Synthesis, VoteResults
from facilitation.words import WordGroup

SECTIONS = ("summary", "agenda", "method", "discussion", "poll", "exchanges", "decisions",
            "votes", "notes", "next", "annex")
SECTION_TITLES = {
    "summary": N_("The séance"),
    "agenda": N_("Objectives and agenda"),
    "method": N_("Method"),
    "discussion": N_("Synthesis of the exchanges"),
    "poll": N_("Flash poll results"),
    "exchanges": N_("Proposals by theme"),
    "decisions": N_("Proposals that reach consensus"),
    "votes": N_("Vote results"),
    "notes": N_("Facilitator's notes"),
    "next": N_("Agenda of the next séance"),
    "annex": N_("Annex: method of calculation"),
}
MAX_NOTE = 20_000
MAX_STEP_NOTE = 300


@dataclass(frozen=True)
class Edits:
    """What the facilitator or organiser changed in the report, never in the data."""

    intro: str = ""
    conclusion: str = ""
    order: tuple[str, ...] = SECTIONS
    hidden: tuple[str, ...] = ()
    theme_names: Mapping[str, str] = field(default_factory=dict)  # theme id → wording
    discussion: str = ""  # the synthèse des échanges: what was presented and said
    step_notes: Mapping[str, str] = field(default_factory=dict)  # step id → what happened

    def to_json(self) -> str:
        return json.dumps({"intro": self.intro, "conclusion": self.conclusion,
                           "order": list(self.order), "hidden": list(self.hidden),
                           "theme_names": dict(self.theme_names),
                           "discussion": self.discussion,
                           "step_notes": dict(self.step_notes)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> Edits:
        data = json.loads(text or "{}")
        order = [s for s in data.get("order", SECTIONS) if s in SECTIONS]
        for i, section in enumerate(SECTIONS):  # a section added later: at its usual place
            if section not in order:
                before = [s for s in SECTIONS[:i] if s in order]
                order.insert(order.index(before[-1]) + 1 if before else 0, section)
        return cls(intro=data.get("intro", ""), conclusion=data.get("conclusion", ""),
                   order=tuple(order),
                   hidden=tuple(s for s in data.get("hidden", ()) if s in SECTIONS),
                   theme_names=dict(data.get("theme_names", {})),
                   discussion=data.get("discussion", ""),
                   step_notes=dict(data.get("step_notes", {})))

    def move(self, section: str, delta: int) -> Edits:
        order = list(self.order)
        i = order.index(section)
        j = max(0, min(len(order) - 1, i + delta))
        order.insert(j, order.pop(i))
        return replace(self, order=tuple(order))


@dataclass(frozen=True)
class StepRun:
    step: Step
    started: dt.datetime
    minutes: int | None  # until the next step started; None for the last one


@dataclass(frozen=True)
class PollResult:
    results: Results
    channels: Mapping[str, int]  # respondents by channel


@dataclass(frozen=True)
class VoteRun:
    """A vote step that was held, with its results."""

    step: Step
    results: VoteResults


@dataclass(frozen=True)
class Frozen:
    """What a séance's report is built from, apart from its plan (steps, agenda, rule) and
    its edits: who took part, each question's and each vote's results, the proposals on
    the board (without their authors) and the themes. Read from the raw rows while they
    exist; once they are purged, from the copy kept just before, so the report and the
    démarche synthesis read the same as they did."""

    presence: Presence
    polls: tuple[PollResult, ...]
    proposals: tuple[Proposal, ...]  # on the board only
    themes: tuple[Theme, ...]
    votes: tuple[VoteRun, ...]  # every vote step, with or without voters
    double_entry: tuple[int, int] = (0, 0)
    vote_totals: tuple[Mapping[str, Any], ...] = ()  # the raw data's totals of the votes
    closed_at: str | None = None  # when the séance was closed, as it was frozen

    def to_json(self) -> str:
        return snapshot.dumps(self)

    @classmethod
    def from_json(cls, text: str) -> Frozen:
        frozen = snapshot.loads(text, FROZEN_KINDS)
        if not isinstance(frozen, Frozen):
            raise snapshot.SnapshotError("not a frozen report")
        return frozen


@dataclass(frozen=True)
class ThemeBlock:
    id: int
    name: str
    proposals: tuple[Proposal, ...]


@dataclass(frozen=True)
class Report:
    workshop: Workshop
    seance: Seance
    final: bool
    presence: Presence
    agenda: tuple[str, ...]  # this séance's agenda (set when the previous one closed)
    runs: tuple[StepRun, ...]
    polls: tuple[PollResult, ...]
    themes: tuple[ThemeBlock, ...]
    unsorted: tuple[Proposal, ...]
    synthesis: Synthesis
    rule: ConsensusRule
    next_seance: Seance | None
    next_agenda: tuple[str, ...]
    edits: Edits
    reopened: tuple[dt.datetime, ...] = ()  # when the organisation reopened it, local time
    double_entry: tuple[int, int] = (0, 0)  # paper cards verified, of those typed twice
    ended: dt.datetime | None = None  # when the séance was closed, local time
    votes: tuple[VoteRun, ...] = ()  # the votes held, with at least one voter

    def double_entry_line(self, tr: Any) -> str:
        """How many paper cards were typed twice, blind, and agree ("" if none was)."""
        verified, twice = self.double_entry
        if not twice:
            return ""
        return (tr.ngettext("%(num)s typed twice by helpers, blind;",
                            "%(num)s typed twice by helpers, blind;", twice) % {"num": twice}
                + " " + tr.ngettext("%(num)s verified (both entries agree).",
                                    "%(num)s verified (both entries agree).", verified)
                % {"num": verified})

    def time_line(self, tr: Any) -> str:
        """"18:30 – 21:02": the planned start, and the end once the séance is closed."""
        start = tr.time(self.seance.time) or "—"
        if self.ended is None:
            return str(start)
        return f"{start} – {tr.time(self.ended.strftime('%H:%M'))}"

    @property
    def sections(self) -> tuple[str, ...]:
        """The sections to show, in the edited order, without the hidden ones and without
        those that would say nothing ("no question was asked" is not sent to anyone)."""
        return tuple(s for s in self.edits.order
                     if s not in self.edits.hidden and self.has(s))

    def has(self, section: str) -> bool:
        """Whether a section has something to say."""
        s = self.synthesis
        return {
            "agenda": bool(self.seance.objectives or self.agenda),
            "method": bool(self.runs),
            "discussion": bool(self.edits.discussion),
            "poll": bool(self.polls),
            "exchanges": bool(self.unsorted or any(t.proposals for t in self.themes)),
            "decisions": bool(s.agree_vote_held or s.priorities),
            "votes": bool(self.votes),
            "notes": bool(self.edits.intro or self.edits.conclusion),
            "next": bool(self.next_agenda),
            "annex": bool(self.methods_used),
        }.get(section, True)

    @property
    def methods_used(self) -> tuple[str, ...]:
        """The ways of counting this report relies on: only those are explained."""
        kinds = {poll.results.question.kind for poll in self.polls}
        used = []
        if kinds:
            used.append("n")
        if "text" in kinds:
            used.append("text")
        if "ranking" in kinds:
            used.append("ranking")
        if self.synthesis.agree_vote_held:
            used.append("consensus")
        if self.synthesis.priorities_method == "judgment":
            used.append("judgment")
        if used:
            used.append("channels")
        return tuple(used)

    def slug(self) -> str:
        """A file name: démarche, séance number and date, safe on every system."""
        from facilitation.words import strip_accents

        base = strip_accents(self.workshop.title).lower()
        words = [w for w in "".join(ch if ch.isalnum() else "-" for ch in base).split("-")
                 if w]
        kept: list[str] = []
        for word in words:  # at most 60 characters, cut between words, never inside one
            if kept and len("-".join([*kept, word])) > 60:
                break
            kept.append(word[:60])
        name = "-".join(kept) or "demarche"
        return f"{name}_seance-{self.seance.number}_{self.seance.date or 'sans-date'}"


def step_runs(steps: Sequence[Step], zone: dt.tzinfo = dt.UTC,
              ended: dt.datetime | None = None) -> tuple[StepRun, ...]:
    """The steps actually run, with their start time (in `zone`) and how long each lasted
    (the last one until the séance was closed, when it was)."""
    started = sorted(((dt.datetime.fromisoformat(s.started_at).astimezone(zone), s)
                      for s in steps if s.started_at), key=lambda pair: pair[0])
    runs = []
    for i, (start, step) in enumerate(started):
        end = started[i + 1][0] if i + 1 < len(started) else ended
        minutes = round((end - start).total_seconds() / 60) if end else None
        runs.append(StepRun(step, start, minutes))
    return tuple(runs)


def theme_blocks(proposals: Sequence[Proposal], themes: Sequence[Theme],
                 edits: Edits) -> tuple[tuple[ThemeBlock, ...], tuple[Proposal, ...]]:
    """Themes (with their edited wording) and their proposals; the unsorted ones apart."""
    cards = [p for p in proposals if p.on_board]
    blocks = tuple(
        ThemeBlock(t.id, edits.theme_names.get(str(t.id)) or t.name,
                   tuple(p for p in cards if p.theme_id == t.id))
        for t in themes)
    return blocks, tuple(p for p in cards if p.theme_id is None)


def clean_note(raw: object) -> str:
    return clean(str(raw or "")).strip()[:MAX_NOTE]


# Every class a frozen report may hold, and nothing else: a snapshot is read back only
# into these.
FROZEN_KINDS: tuple[type, ...] = (
    Frozen, Presence, PollResult, VoteRun, Proposal, Theme, Step,
    tallies.ChoiceResults, tallies.MatrixResults, tallies.TextResults, tallies.RankingResults,
    tallies.Bar, tallies.MatrixRow, tallies.RankingRow, WordGroup,
    polls.Question, polls.Choice, polls.Settings,
    voting.VoteResults, voting.Row, voting.Item, voting.Verdict, voting.AgreeTally,
)

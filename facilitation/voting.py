"""Votes and what they decide: agree/disagree/pass with a consensus rule, dot voting, and
majority judgment with its standard tie-break. Pure, no I/O."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from facilitation.i18n_keys import N_, UserError

METHODS = ("agree", "dots", "judgment")
METHOD_LABELS = {
    "agree": N_("Agree / disagree / pass"),
    "dots": N_("Dot voting"),
    "judgment": N_("Majority judgment"),
}
AGREE, PASS, DISAGREE = 1, 0, -1
AGREE_LABELS = {AGREE: N_("Agree"), DISAGREE: N_("Disagree"), PASS: N_("Pass")}
# Best first: index 0 is the best grade.
GRADES = (N_("Excellent"), N_("Very good"), N_("Good"), N_("Fairly good"), N_("Passable"),
          N_("Insufficient"), N_("To reject"))
DIVISIVE_SHARE = 0.3  # at least this much agreement and this much disagreement at once


class VoteError(UserError):
    """A vote that cannot be stored."""


@dataclass(frozen=True)
class VoteSettings:
    """A vote step: its method, what it is about, and its points for dot voting."""

    method: str = "agree"
    target: str = "proposals"  # proposals | theme | selection | themes
    theme_id: int | None = None
    selection: tuple[int, ...] = ()
    points: int = 5  # dot voting: points per person
    max_per_item: int = 3  # dot voting: at most this many on one item
    open: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> VoteSettings:
        data = json.loads(text or "{}")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "selection" in known:
            known["selection"] = tuple(known["selection"])
        return cls(**known)


@dataclass(frozen=True)
class ConsensusRule:
    """When a proposal reaches consensus; stated on screen and in the report."""

    min_agree: float = 2 / 3
    max_disagree: float = 0.15
    min_votes: int = 5
    every_subgroup: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> ConsensusRule:
        data = json.loads(text or "{}")
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def check_rule(min_agree: float, max_disagree: float, min_votes: int) -> None:
    if not 0.5 <= min_agree <= 1:
        raise VoteError(N_("The share that must agree is between 50 % and 100 %."))
    if not 0 <= max_disagree <= 0.5:
        raise VoteError(N_("The share that may disagree is between 0 % and 50 %."))
    if not 1 <= min_votes <= 1000:
        raise VoteError(N_("The minimum number of votes is between 1 and 1000."))


# Validation -------------------------------------------------------------------------------


def validate_agree(raw: object) -> int:
    value = {"agree": AGREE, "disagree": DISAGREE, "pass": PASS, "1": AGREE, "-1": DISAGREE,
             "0": PASS}.get(str(raw)) if not isinstance(raw, bool) else None
    if value is None:
        raise VoteError(N_("Choose agree, disagree or pass."))
    return value


def validate_grade(raw: object) -> int:
    text = str(raw)
    if isinstance(raw, bool) or not text.isdecimal() or not 0 <= int(text) < len(GRADES):
        raise VoteError(N_("Choose one of the grades."))
    return int(text)


def validate_dots(raw: Mapping[int, object], items: Iterable[int],
                  settings: VoteSettings) -> dict[int, int]:
    """Given points per item, return them (zeros dropped) or raise VoteError."""
    known = set(items)
    dots: dict[int, int] = {}
    for item, value in raw.items():
        if item not in known:
            raise VoteError(N_("This item is not part of the vote."))
        text = str(value).strip() or "0"
        if isinstance(value, bool) or not text.isdecimal():
            raise VoteError(N_("Points are whole numbers."))
        if int(text) > settings.max_per_item:
            # Each form is its own msgid: the one for 1 agrees in French and English.
            raise VoteError(N_("One point at most on one item.") if settings.max_per_item == 1
                            else N_("At most %(limit)s points on one item."),
                            limit=settings.max_per_item)
        if int(text):
            dots[item] = int(text)
    if sum(dots.values()) > settings.points:
        raise VoteError(N_("You have one point in all: you gave %(given)s.")
                        if settings.points == 1
                        else N_("You have %(limit)s points in all: you gave %(given)s."),
                        limit=settings.points, given=sum(dots.values()))
    return dots


def order_for(participant_id: int, items: Sequence[int]) -> list[int]:
    """The items in an order of this participant's own, the same on every visit, so the
    first item is not always the same one for everybody (order bias)."""
    shuffled = list(items)
    random.Random(participant_id * 7919).shuffle(shuffled)  # noqa: S311 - not a secret
    return shuffled


# Agree / disagree / pass and consensus --------------------------------------------------


@dataclass(frozen=True)
class AgreeTally:
    agree: int = 0
    disagree: int = 0
    passes: int = 0

    @property
    def n(self) -> int:
        return self.agree + self.disagree + self.passes

    @property
    def agree_share(self) -> float:
        return self.agree / self.n if self.n else 0.0

    @property
    def disagree_share(self) -> float:
        return self.disagree / self.n if self.n else 0.0

    def add(self, value: int) -> AgreeTally:
        return AgreeTally(self.agree + (value == AGREE), self.disagree + (value == DISAGREE),
                          self.passes + (value == PASS))


def tally_agree(values: Iterable[int]) -> AgreeTally:
    tally = AgreeTally()
    for value in values:
        tally = tally.add(value)
    return tally


@dataclass(frozen=True)
class Verdict:
    status: str  # consensus | divisive | too_few | none
    tally: AgreeTally
    by_subgroup: dict[str, AgreeTally] = field(default_factory=dict)
    failing_subgroups: tuple[str, ...] = ()


def _meets(tally: AgreeTally, rule: ConsensusRule) -> bool:
    return tally.agree_share >= rule.min_agree and tally.disagree_share <= rule.max_disagree


def counted_tables(by_subgroup: Mapping[str, AgreeTally], rule: ConsensusRule) -> list[str]:
    """The tables that count for an item under "the same in every table": those where at
    least `min_votes` members voted on it. Who joined and did not vote changes nothing, so
    joining a table without voting can never take an item out of consensus."""
    return [name for name, tally in by_subgroup.items() if name and tally.n >= rule.min_votes]


def verdict(tally: AgreeTally, rule: ConsensusRule,
            by_subgroup: Mapping[str, AgreeTally] | None = None,
            counted_subgroups: Iterable[str] | None = None) -> Verdict:
    """Judge one item. With `every_subgroup`, each subgroup that counts must meet the rule
    too: those of `counted_subgroups`, by default those where enough members voted on the
    item (`counted_tables`)."""
    groups = dict(by_subgroup or {})
    if tally.n < rule.min_votes:
        return Verdict("too_few", tally, groups)
    failing: tuple[str, ...] = ()
    if rule.every_subgroup:
        if counted_subgroups is None:
            counted_subgroups = counted_tables(groups, rule)
        failing = tuple(name for name in counted_subgroups
                        if not _meets(groups.get(name, AgreeTally()), rule))
    if _meets(tally, rule) and not failing:
        return Verdict("consensus", tally, groups)
    if tally.agree_share >= DIVISIVE_SHARE and tally.disagree_share >= DIVISIVE_SHARE:
        return Verdict("divisive", tally, groups, failing)
    return Verdict("none", tally, groups, failing)


# Dot voting ----------------------------------------------------------------------------


def tally_dots(ballots: Iterable[Mapping[int, int]]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for ballot in ballots:
        for item, points in ballot.items():
            totals[item] = totals.get(item, 0) + points
    return totals


# Majority judgment ---------------------------------------------------------------------


def median_grade(grades: Sequence[int]) -> int:
    """The majority grade: the lower median (index 0 best, so the worse of the two middles)."""
    return sorted(grades)[len(grades) // 2]


def majority_value(grades: Sequence[int]) -> tuple[int, ...]:
    """The standard tie-break: the sequence of majority grades obtained by removing, one by
    one, the current majority grade. Items compare by this sequence (lower is better)."""
    remaining = sorted(grades)
    sequence = []
    while remaining:
        grade = median_grade(remaining)
        sequence.append(grade)
        remaining.remove(grade)
    return tuple(sequence)


def rank_judgment(grades_by_item: Mapping[int, Sequence[int]]) -> list[tuple[int, tuple[int, ...]]]:
    """Items best first, each with its majority value; items without grades come last."""
    graded = [(item, majority_value(g)) for item, g in grades_by_item.items() if g]
    ungraded = [(item, ()) for item, g in grades_by_item.items() if not g]
    return sorted(graded, key=lambda pair: pair[1]) + ungraded


# Results of a vote step -----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    kind: str  # proposal | theme
    id: int
    text: str


@dataclass(frozen=True)
class Ballot:
    participant_id: int
    item_id: int
    value: int
    subgroup: str = ""


@dataclass(frozen=True)
class Row:
    item: Item
    verdict: Verdict | None = None  # agree / disagree / pass
    points: int = 0  # dot voting
    grades: tuple[int, ...] = ()  # majority judgment: count per grade, best first
    majority: int | None = None  # majority judgment: the majority grade
    rank: int = 0  # 1 = first; equal ranks are ties


@dataclass(frozen=True)
class VoteResults:
    method: str
    voters: int
    rows: tuple[Row, ...]

    @property
    def max_points(self) -> int:
        return max((row.points for row in self.rows), default=0)


def vote_results(settings: VoteSettings, rule: ConsensusRule, items: Sequence[Item],
                 ballots: Sequence[Ballot]) -> VoteResults:
    """Given the items and every ballot of a vote step, return its results in rank order.
    Only ballots count: under "the same in every table", a table counts for an item when
    enough of its members voted on it (`counted_tables`)."""
    voters = len({b.participant_id for b in ballots})
    by_item: dict[int, list[Ballot]] = {item.id: [] for item in items}
    for ballot in ballots:
        if ballot.item_id in by_item:
            by_item[ballot.item_id].append(ballot)
    rows: list[Row] = []
    if settings.method == "agree":
        for item in items:
            cast = by_item[item.id]
            groups: dict[str, AgreeTally] = {}
            for ballot in cast:
                groups[ballot.subgroup] = groups.get(ballot.subgroup, AgreeTally()).add(
                    ballot.value)
            rows.append(Row(item, verdict(tally_agree(b.value for b in cast), rule, groups)))
        order = {"consensus": 0, "divisive": 1, "none": 2, "too_few": 3}
        rows.sort(key=lambda r: (order[r.verdict.status] if r.verdict else 4,
                                 -(r.verdict.tally.agree_share if r.verdict else 0)))
        return VoteResults("agree", voters, tuple(rows))
    if settings.method == "dots":
        totals = tally_dots({b.item_id: b.value} for b in ballots)
        rows = sorted((Row(item, points=totals.get(item.id, 0)) for item in items),
                      key=lambda r: -r.points)
        ranked = [Row(r.item, points=r.points,
                      rank=1 + sum(1 for o in rows if o.points > r.points)) for r in rows]
        return VoteResults("dots", voters, tuple(ranked))
    grades = {item.id: [b.value for b in by_item[item.id]] for item in items}
    values = {item: value for item, value in rank_judgment(grades)}
    order_ids = [item for item, _ in rank_judgment(grades)]
    lookup = {item.id: item for item in items}
    for item_id in order_ids:
        g = grades[item_id]
        rows.append(Row(lookup[item_id],
                        grades=tuple(g.count(i) for i in range(len(GRADES))),
                        majority=median_grade(g) if g else None,
                        rank=1 + sum(1 for o in order_ids if values[o] and g and
                                     values[o] < values[item_id])))
    return VoteResults("judgment", voters, tuple(rows))


@dataclass(frozen=True)
class Synthesis:
    consensus: tuple[Row, ...] = ()
    divisive: tuple[Row, ...] = ()
    no_consensus: tuple[Row, ...] = ()  # enough votes, neither consensus nor divided
    too_few: tuple[Row, ...] = ()
    priorities: tuple[Row, ...] = ()  # from dot voting or majority judgment, best first
    priorities_method: str = ""

    @property
    def agree_vote_held(self) -> bool:
        """Whether an agree/disagree/pass vote was held: only then is there a consensus to
        speak of (after dot voting alone, "no consensus" would be wrong)."""
        return bool(self.consensus or self.divisive or self.no_consensus or self.too_few)


CARRY_LABELS = {
    "divisive": N_("divides the room"),
    "no_consensus": N_("no consensus"),
    "rejected": N_("rejected by the room"),
    "too_few": N_("too few votes"),
    "not_voted": N_("not voted on"),
}


def carry_over(proposal_ids: Sequence[int], summary: Synthesis
               ) -> list[tuple[int, str, bool]]:
    """What may go on to the next séance: every proposal on the board that did not reach
    consensus, with why, and whether it goes by default: not when the room rejected it
    (most of the votes against it), which the facilitator may still choose."""
    status: dict[int, str] = {}
    for group in ("divisive", "no_consensus", "too_few"):
        for row in getattr(summary, group):
            if row.item.kind == "proposal":
                status[row.item.id] = group
                tally = row.verdict.tally if row.verdict else None
                if group == "no_consensus" and tally and tally.disagree_share > 0.5:
                    status[row.item.id] = "rejected"
    settled = {row.item.id for row in summary.consensus if row.item.kind == "proposal"}
    return [(pid, status.get(pid, "not_voted"), status.get(pid) != "rejected")
            for pid in proposal_ids if pid not in settled]


def synthesis(results: Sequence[VoteResults], top: int = 5) -> Synthesis:
    """What the séance's votes decided: consensus, what divides the room, the rest (no
    consensus), what had too few votes to say, and the top priorities (ties kept together
    past the cut). Every agree/disagree/pass row lands in exactly one group."""
    consensus: list[Row] = []
    divisive: list[Row] = []
    no_consensus: list[Row] = []
    too_few: list[Row] = []
    priorities: list[Row] = []
    method = ""
    for result in results:
        for row in result.rows:
            if row.verdict is None:
                continue
            {"consensus": consensus, "divisive": divisive, "too_few": too_few}.get(
                row.verdict.status, no_consensus).append(row)
        if result.method in ("dots", "judgment") and not priorities:
            ranked = [r for r in result.rows if r.points or r.majority is not None]
            cut = [r for r in ranked if r.rank <= top]
            priorities, method = cut, result.method
    return Synthesis(tuple(consensus), tuple(divisive), tuple(no_consensus), tuple(too_few),
                     tuple(priorities), method)


def voted_themes(items: Iterable[Item], theme_of: Mapping[int, int | None]) -> set[int]:
    """The themes a séance has voted on: a theme put to the vote, or the theme of any
    proposal put to the vote (`theme_of`: proposal id to its theme)."""
    voted: set[int] = set()
    for item in items:
        theme = item.id if item.kind == "theme" else theme_of.get(item.id)
        if theme is not None:
            voted.add(theme)
    return voted


def agenda_draft(summary: Synthesis, voted_themes: set[int], theme_names: Mapping[int, str],
                 translate: Callable[..., str]) -> list[str]:
    """The next séance's agenda, prefilled: what divides the room, then themes not voted."""
    lines = [translate(N_("To deepen: %(text)s"), text=row.item.text)
             for row in summary.divisive]
    lines += [translate(N_("Theme not yet voted on: %(name)s"), name=name)
              for tid, name in theme_names.items() if tid not in voted_themes]
    return lines


def read_ballot(settings: VoteSettings, items: list[Item], form: Mapping[str, Any]
                ) -> tuple[dict[int, int], bool]:
    """The votes a form (or JSON) carries, validated; and whether they replace all earlier
    ones (dot voting). Raises VoteError."""
    known = {item.id for item in items}
    if settings.method == "agree":
        raw = str(form.get("item", ""))
        if not raw.isdecimal() or int(raw) not in known:
            raise VoteError(N_("This item is not part of the vote."))
        return {int(raw): validate_agree(form.get("value"))}, False
    prefix = "dots-" if settings.method == "dots" else "grade-"
    values = {int(k[len(prefix):]): v for k, v in _items(form)
              if k.startswith(prefix) and k[len(prefix):].isdecimal()}
    if settings.method == "dots":
        return validate_dots(values, known, settings), True
    if set(values) - known:
        raise VoteError(N_("This item is not part of the vote."))
    if set(values) != known:
        raise VoteError(N_("Give every item a grade."))
    return {item: validate_grade(value) for item, value in values.items()}, False


def read_card_ballot(settings: VoteSettings, items: list[Item], form: Mapping[str, Any]
                     ) -> dict[int, int]:
    """A whole paper vote card as the helper typed it: what each item got, blanks left out
    (a person may leave an item blank on paper, in every method). Raises VoteError."""
    values: dict[int, int] = {}
    raw_dots: dict[int, object] = {}
    known = {str(item.id) for item in items}
    for key, value in _items(form):
        prefix, _, item_id = str(key).partition("-")
        if prefix in ("v", "dots", "grade") and str(value or "").strip() and \
                item_id not in known:
            # A form from before the items changed: its numbers no longer match the card.
            raise VoteError(N_("The items of this vote changed since this page was opened: "
                               "reload it and type the card again."), 409)
    for item in items:
        if settings.method == "agree":
            raw = str(form.get(f"v-{item.id}", "") or "")
            if raw:
                values[item.id] = validate_agree(raw)
        elif settings.method == "dots":
            raw_dots[item.id] = str(form.get(f"dots-{item.id}", "") or "").strip()
        else:
            raw = str(form.get(f"grade-{item.id}", "") or "")
            if raw:
                values[item.id] = validate_grade(raw)
    if settings.method == "dots":
        values = validate_dots(raw_dots, [item.id for item in items], settings)
    if not values:
        raise VoteError(N_("Nothing was ticked or written for this card."))
    return values


def _items(form: Mapping[str, Any]) -> list[tuple[str, Any]]:
    multi = getattr(form, "multi_items", None)  # a posted form: every value of every field
    return list(multi() if multi else form.items())[:500]

"""Crash test: the real server is killed (SIGKILL) K times while phones, the API and a
helper keep writing; after each restart on the same file, nothing acknowledged is lost
or counted twice, and the séance is where it was.

One server on a temporary SQLite file. Each cycle:

1. a steady stream of writes (asyncio tasks): participants join and answer three open
   questions (one that may not be changed), send proposals, vote; two helpers type
   paper cards (answers, vote cards, paper proposals). Each write has its own
   Idempotency-Key (API header, or the helper form's `idem` field);
2. at a moment drawn from a seeded RNG, while requests are in flight, `kill -9`;
3. each write is then one of: ACKNOWLEDGED (201, or 303 for the helper's forms),
   UNCERTAIN (no answer: the connection dropped; it may or may not be on disk), or
   refused (503 "busy": sent again with the same key until it is answered);
4. restart on the same file and port, then, in this order:
   - joins right after the restart, each followed at once by a request with the new
     token: it must be known (200, never 403);
   - what the server reads back (the report's raw JSON export, the results API, the
     helper page's card count, the state API) must hold every acknowledged write exactly
     once, with each participant's / card's last acknowledged value (an uncertain later
     write may have landed instead), no write nobody sent, and the same step;
   - every uncertain write is sent again with its same key, as a phone would: it must be
     acknowledged, and counted once;
   - a few acknowledged writes are sent again with their same key: answered like the
     first time, and not counted again (nor undoing a later change);
   - then everything must match exactly, results and counts included.

The problems found are collected across all cycles and reported together at the end.
Set ECLAIR_CRASH_SEED to replay a seed (the timing of the kill still varies).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests import stores
from tests.server import Server, free_port

CYCLES = 5
PHONE_WORKERS = 6
HELPER_WORKERS = 2
# The phase of each cycle: where the séance is while the writes stream in.
PHASES = ("poll", "proposals", "proposals", "vote", "vote")
MIN_ACKS_BEFORE_KILL = 25  # let the stream get going before the kill may come
TIMEOUT = httpx.Timeout(30.0)
ABSENT = "<absent>"
LANDED = "<present>"  # a paper proposal: the helper's redirect carries no id
ANY_ID = "<any id>"  # an uncertain API proposal: the id it would get is unknown
AGREE_VALUES = {"agree": 1, "disagree": -1, "pass": 0}
# Kinds of problem, as the failure message groups them.
LOST = "LOST: acknowledged, missing after the restart"
WRONG = "WRONG VALUE: not the last acknowledged write (nor an uncertain later one)"
TWICE = "COUNTED TWICE"
PHANTOM = "PHANTOM: on the server, never sent"
COUNTS = "COUNTS: results, presence or card count disagree with the writes"
STATE = "SÉANCE STATE: not where it was"
UNSEEN = "JOIN NOT SEEN by the next request"
RETRY = "RETRY REFUSED: an unanswered write, sent again with its key after the restart"
REPLAY = "REPLAY ANSWERED DIFFERENTLY: an acknowledged write sent again with its key"
STREAM = "UNEXPECTED ANSWER while the server was up"
ERRORS = "SERVER LOGGED ERRORS"


# What was sent, and what the test knows of it ------------------------------------------


@dataclass
class Sent:
    """One write, as sent: enough to send it again with the same idempotency key."""

    kind: str  # answer, card, proposal, paper_proposal, vote, card_vote
    path: str
    key: str
    json: dict[str, Any] | None = None
    form: dict[str, Any] | None = None  # a helper form; "csrf" is added when sent
    bearer: str | None = None
    status: int | None = None
    body: Any = None  # the first answer's JSON, to compare a replay with

    @property
    def ok(self) -> tuple[int, ...]:
        return (303,) if self.form is not None else (201,)


@dataclass
class Slot:
    """One thing the séance holds: a participant's (or card's) answer to a question, vote
    on an item, or one proposal. `value` is what the last acknowledged write left there."""

    label: str
    value: Any = ABSENT
    pending: Sent | None = None  # a write with no answer: it may or may not be there
    pending_value: Any = None
    tainted: bool = False  # a write got an unexpected answer: already reported
    acked: list[Sent] = field(default_factory=list)

    def allowed(self) -> list[Any]:
        out = [self.value]
        if self.pending is not None or self.tainted:
            out.append(self.pending_value)
        return out

    def matches(self, actual: Any) -> bool:
        if self.tainted:
            return True
        if actual in self.allowed():
            return True
        return self.pending is not None and self.pending_value == ANY_ID and actual != ABSENT


@dataclass
class Person:
    token: str
    pid: int
    proposals: int = 0  # acknowledged or uncertain

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


@dataclass
class Ids:
    code: str
    fac: str
    helper: str
    session_id: int
    positions: dict[str, int]  # step kind -> position
    single: dict[str, Any]
    multiple: dict[str, Any]
    ranking: dict[str, Any]

    @property
    def questions(self) -> list[dict[str, Any]]:
        return [self.single, self.multiple, self.ranking]


@dataclass
class World:
    """Everything the test knows the séance should hold, across cycles."""

    seed: int
    db: Path
    ids: Ids
    url: str = ""  # the PostgreSQL database, when the server runs on it
    problems: list[tuple[str, str]] = field(default_factory=list)  # (category, text)
    slots: dict[tuple[Any, ...], Slot] = field(default_factory=dict)
    people: dict[int, list[Person]] = field(default_factory=dict)  # by phone worker
    cards: dict[int, list[int]] = field(default_factory=dict)  # by helper worker
    vote_cards: Counter[int] = field(default_factory=Counter)  # vote cards typed, by worker
    joins_acked: list[Person] = field(default_factory=list)
    joins_uncertain: int = 0
    baseline_proposals: set[int] = field(default_factory=set)
    expected_step: int = 0
    vote_items: list[int] = field(default_factory=list)
    vote_step_id: int | None = None
    keys: itertools.count = field(default_factory=itertools.count)

    def problem(self, cycle: int, category: str, text: str) -> None:
        self.problems.append((category, f"[cycle {cycle}] {text}"))

    def report(self) -> str:
        """The problems, by category: how many, then the first few of each."""
        by: dict[str, list[str]] = {}
        for category, text in self.problems:
            by.setdefault(category, []).append(text)
        lines = []
        for category, texts in by.items():
            lines.append(f"{category}: {len(texts)}")
            lines += [f"    {text}" for text in texts[:8]]
            if len(texts) > 8:
                lines.append(f"    … and {len(texts) - 8} more")
        return "\n".join(lines)

    def slot(self, *key: Any) -> Slot:
        if key not in self.slots:
            self.slots[key] = Slot(label=" ".join(str(k) for k in key))
        return self.slots[key]

    def new_key(self) -> str:
        return f"crash-{self.seed}-{next(self.keys)}"


# One cycle's stream of writes ------------------------------------------------------------


class Stream:
    """The writes of one cycle, sent by concurrent tasks until the server is killed."""

    def __init__(self, world: World, server: Server, http: httpx.AsyncClient, cycle: int,
                 phase: str, helper_csrf: str) -> None:
        self.world, self.server, self.http = world, server, http
        self.cycle, self.phase = cycle, phase
        self.helper_csrf = helper_csrf
        self.killed = False
        self.in_flight = 0
        self.stats: Counter[str] = Counter()

    # Sending ----------------------------------------------------------------------

    async def request(self, sent: Sent) -> httpx.Response:
        headers = {"idempotency-key": sent.key} if sent.form is None else {}
        if sent.bearer:
            headers["authorization"] = f"Bearer {sent.bearer}"
        if sent.form is not None:
            return await self.http.post(sent.path, data={**sent.form, "csrf": self.helper_csrf},
                                        headers=headers)
        return await self.http.post(sent.path, json=sent.json, headers=headers)

    async def send(self, sent: Sent, slot: Slot, value: Any) -> bool:
        """Send until answered (a 503 is sent again with the same key); False once the
        server is gone. The slot holds the write as pending while it is in flight."""
        slot.pending, slot.pending_value = sent, value
        while True:
            self.in_flight += 1
            try:
                response = await self.request(sent)
            except httpx.TransportError as error:
                self.stats["uncertain"] += 1
                if not self.killed:
                    self.world.problem(self.cycle, STREAM, f"{sent.kind} {sent.key}: no "
                                       f"answer while the server was up: {error!r}")
                return False
            finally:
                self.in_flight -= 1
            if response.status_code == 503:
                self.stats["busy"] += 1
                await asyncio.sleep(0.2)
                continue
            if response.status_code in sent.ok:
                sent.status = response.status_code
                sent.body = response.json() if sent.form is None else None
                if sent.kind == "proposal":
                    value = sent.body["id"]
                slot.value, slot.pending, slot.pending_value = value, None, None
                slot.acked.append(sent)
                self.stats["acked"] += 1
                self.stats[sent.kind] += 1
                return True
            slot.tainted = True  # reported; it may or may not be there
            self.world.problem(self.cycle, STREAM, f"{sent.kind} {slot.label} got "
                               f"{brief(response)}")
            return not self.killed

    async def join(self, worker: int) -> Person | None:
        code = self.world.ids.code
        try:
            while True:
                response = await self.http.post("/api/sessions/join", json={"code": code})
                if response.status_code != 503:
                    break
                await asyncio.sleep(0.2)
        except httpx.TransportError:
            self.world.joins_uncertain += 1
            return None
        if response.status_code != 201:
            self.world.problem(self.cycle, STREAM, f"join got {response.status_code}: "
                               f"{response.text[:200]!r}")
            return None
        data = response.json()
        person = Person(data["token"], int(data["participant_id"]))
        self.world.joins_acked.append(person)
        self.world.people[worker].append(person)
        try:  # a request made right after an acknowledged join sees it
            seen = await call(self.http, "GET", f"/api/sessions/{code}/state",
                              headers=person.headers)
        except httpx.TransportError:
            return None
        if seen.status_code != 200:
            self.world.problem(self.cycle, UNSEEN, f"state right after an acknowledged join "
                               f"(participant {person.pid}) got {seen.status_code}")
        return person

    # The writers --------------------------------------------------------------------

    async def phone(self, worker: int) -> None:
        world, ids = self.world, self.world.ids
        rng = random.Random(f"{world.seed}-{self.cycle}-phone-{worker}")
        people = world.people.setdefault(worker, [])
        while not self.killed:
            await asyncio.sleep(0)  # a skipped turn still lets the others run
            if len(people) < 4 or rng.random() < 0.08:
                if await self.join(worker) is None:
                    return
                continue
            person = rng.choice(people)
            roll = rng.random()
            if self.phase == "proposals" and roll < 0.45 and person.proposals < 3:
                text = f"Idee {world.seed} c{self.cycle} w{worker} n{next(world.keys)}"
                slot = world.slot("proposal", text)
                person.proposals += 1
                sent = Sent("proposal", f"/api/sessions/{ids.code}/proposals",
                            world.new_key(), json={"text": text}, bearer=person.token)
                value: Any = ANY_ID
            elif self.phase == "vote" and roll < 0.5:
                item = rng.choice(world.vote_items)
                slot = world.slot("vote", item, person.pid)
                choice = rng.choice(list(AGREE_VALUES))
                sent = Sent("vote", f"/api/sessions/{ids.code}/votes", world.new_key(),
                            json={"item_id": item, "value": choice}, bearer=person.token)
                value = AGREE_VALUES[choice]
            else:
                question = rng.choice(ids.questions)
                slot = world.slot("answer", question["id"], person.pid)
                value = self.pick(rng, question)
                if question is ids.ranking and (slot.value != ABSENT or slot.tainted):
                    continue  # may be answered once only
                sent = Sent("answer", f"/api/sessions/{ids.code}/questions/{question['id']}"
                            "/answers", world.new_key(), json={"choices": value},
                            bearer=person.token)
            if slot.pending is not None or slot.tainted:
                continue
            if not await self.send(sent, slot, value):
                return

    @staticmethod
    def pick(rng: random.Random, question: dict[str, Any]) -> list[int]:
        choices = [c["id"] for c in question["choices"]]
        if question["kind"] == "single":
            return [rng.choice(choices)]
        if question["kind"] == "multiple":
            chosen = set(rng.sample(choices, rng.randint(1, question["max_choices"])))
            return [c for c in choices if c in chosen]  # stored in the choices' order
        return rng.sample(choices, len(choices))  # a ranking, best first

    async def helper(self, worker: int) -> None:
        world, ids = self.world, self.world.ids
        rng = random.Random(f"{world.seed}-{self.cycle}-helper-{worker}")
        cards = world.cards.setdefault(worker, [])
        base = f"/h/{ids.helper}"
        while not self.killed:
            await asyncio.sleep(0)
            roll = rng.random()
            if not cards or rng.random() < 0.3:
                cards.append(worker * 10_000 + len(cards) + 1)
            card = rng.choice(cards)
            if self.phase == "proposals" and roll < 0.4:
                text = f"Papier {world.seed} c{self.cycle} h{worker} n{next(world.keys)}"
                slot = world.slot("proposal", text)
                sent = Sent("paper_proposal", f"{base}/propose", world.new_key(),
                            form={"idem": "", "text": text})
                value: Any = LANDED
            elif self.phase == "vote" and roll < 0.5:
                # A vote card is typed whole, once: a new card each time, one item ticked
                # (typing it again would be a correction replacing the whole card).
                world.vote_cards[worker] += 1
                card = 50_000 + worker * 10_000 + world.vote_cards[worker]
                item = rng.choice(world.vote_items)
                slot = world.slot("card_vote", item, card)
                choice = rng.choice(list(AGREE_VALUES))
                sent = Sent("card_vote", f"{base}/vote", world.new_key(),
                            form={"idem": "", "card": str(card),
                                  "step": str(world.vote_step_id), f"v-{item}": choice})
                value = AGREE_VALUES[choice]
            else:
                question = rng.choice([ids.single, ids.multiple])
                slot = world.slot("card", question["id"], card)
                value = self.pick(rng, question)
                form = {"idem": "", "card": str(card), "question": str(question["id"]),
                        "choice": [str(c) for c in value]}
                if slot.value != ABSENT:
                    form["correction"] = "1"
                sent = Sent("card", f"{base}/answer", world.new_key(), form=form)
            if slot.pending is not None or slot.tainted:
                continue
            assert sent.form is not None
            sent.form["idem"] = sent.key
            if not await self.send(sent, slot, value):
                return

    # The cycle --------------------------------------------------------------------

    async def run(self, rng: random.Random) -> float:
        """Stream writes, kill the server at a random moment; returns how long it ran."""
        tasks = [asyncio.create_task(self.phone(w)) for w in range(PHONE_WORKERS)]
        tasks += [asyncio.create_task(self.helper(w + 1)) for w in range(HELPER_WORKERS)]
        start = time.monotonic()
        deadline = start + 20
        while self.stats["acked"] < MIN_ACKS_BEFORE_KILL and time.monotonic() < deadline:
            if all(t.done() for t in tasks):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0.1, 1.2))
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        self.stats["in flight at the kill"] = self.in_flight
        self.server.kill9()
        self.killed = True
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        return time.monotonic() - start


async def call(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any
               ) -> httpx.Response:
    """A request of the test itself (setting up, reading back): a 503 "busy" (the server's
    back-pressure on a loaded machine) is sent again after a moment."""
    for _ in range(150):
        response = await http.request(method, path, **kwargs)
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.2)
    return response


def brief(response: httpx.Response) -> str:
    """A refusal, short: the API's JSON error, or the error paragraph of an HTML page."""
    if "html" in response.headers.get("content-type", ""):
        found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text, re.S)
        title = re.search(r"<title>(.*?)</title>", response.text, re.S)
        return f"{response.status_code} page: " + (
            found.group(1) if found else title.group(1) if title else response.text[:120])
    return f"{response.status_code} {response.text[:200]}"


# Reading the séance back ------------------------------------------------------------------


@dataclass
class Observed:
    export: dict[str, Any]
    state: dict[str, Any]
    results: dict[int, dict[str, Any]]
    card_count: int  # what the helper page says
    card_pid: dict[int, int]  # card number -> its participant


async def observe(world: World, http: httpx.AsyncClient) -> Observed:
    ids = world.ids
    fac = {"authorization": f"Bearer {ids.fac}"}

    async def get(path: str, **kwargs: Any) -> httpx.Response:
        response = await call(http, "GET", path, **kwargs)
        assert response.status_code == 200, f"GET {path}: {response.status_code} " \
            f"{response.text[:300]}"
        return response

    export = (await get(f"/f/{ids.fac}/report/json")).json()
    state = (await get(f"/api/sessions/{ids.code}/state", headers=fac)).json()
    results = {q["id"]: (await get(f"/api/sessions/{ids.code}/questions/{q['id']}/results",
                                   headers=fac)).json() for q in ids.questions}
    page = (await get(f"/h/{ids.helper}")).text
    found = re.search(r"(\d+) bulletins? papier saisis?", page)
    assert found, "the helper page no longer says how many paper cards were entered"
    # The export does not say which participant is which card: the one thing read from
    # the file itself (read-only, while the server runs).
    if world.url:
        conn = await asyncpg.connect(world.url)
        try:
            rows = await conn.fetch("SELECT card, id FROM participants WHERE session_id = $1"
                                    " AND card IS NOT NULL", ids.session_id)
        finally:
            await conn.close()
    else:
        with contextlib.closing(sqlite3.connect(f"file:{world.db}?mode=ro", uri=True)) as conn:
            rows = conn.execute("SELECT card, id FROM participants WHERE session_id = ?"
                                " AND card IS NOT NULL", (ids.session_id,)).fetchall()
    return Observed(export, state, results, int(found.group(1)),
                    {int(card): int(pid) for card, pid in rows})


def actual_values(world: World, seen: Observed) -> dict[tuple[Any, ...], Any]:
    """What the server holds, keyed like the test's slots."""
    pid_card = {pid: card for card, pid in seen.card_pid.items()}
    out: dict[tuple[Any, ...], Any] = {}
    for row in seen.export["answers"]:
        pid = int(row["participant_id"])
        key = ("card", row["question_id"], pid_card[pid]) if pid in pid_card else \
            ("answer", row["question_id"], pid)
        out[key] = row["value"]  # the JSON export gives stored answers as JSON values
    for row in seen.export["votes"]:
        pid = int(row["participant_id"])
        if row["step_id"] != world.vote_step_id:
            out[("other vote", row["step_id"], pid)] = row["value"]
            continue
        key = ("card_vote", row["item_id"], pid_card[pid]) if pid in pid_card else \
            ("vote", row["item_id"], pid)
        out[key] = row["value"]
    by_text: dict[str, list[int]] = {}
    for row in seen.export["proposals"]:
        if row["id"] not in world.baseline_proposals:
            by_text.setdefault(row["text"], []).append(int(row["id"]))
    for text, found in by_text.items():
        paper = found and any(r["channel"] == "paper" for r in seen.export["proposals"]
                              if r["id"] == found[0])
        out[("proposal", text)] = found if len(found) > 1 else (LANDED if paper else found[0])
    return out


def check(world: World, cycle: int, seen: Observed, *, exact: bool) -> None:
    """Every acknowledged write is there exactly once, with the last acknowledged value
    (or, unless `exact`, an uncertain later one); nothing else is."""
    before = len(world.problems)
    actual = actual_values(world, seen)
    for key, slot in world.slots.items():
        got = actual.get(key, ABSENT)
        if isinstance(got, list) and key[0] == "proposal":
            world.problem(cycle, TWICE, f"{slot.label}: stored {len(got)} times (ids {got})")
        elif not (slot.value == got or (not exact and slot.matches(got)) or slot.tainted):
            lost = slot.value != ABSENT and got == ABSENT
            world.problem(cycle, LOST if lost else WRONG,
                          f"{slot.label}: server has {got!r}, the last acknowledged write left "
                          f"{slot.value!r}"
                          + (f" (uncertain: {slot.pending_value!r})" if slot.pending else "")
                          + f"; acknowledged writes: {[s.key for s in slot.acked]}")
            slot.value = got  # reported once: later cycles go on from what the server has
    for key in actual.keys() - world.slots.keys():
        world.problem(cycle, PHANTOM, f"{key}: on the server, but nobody sent it: "
                      f"{actual[key]!r}")
        world.slot(*key).value = actual[key]

    # Participants: every acknowledged join is there; at most the uncertain ones more.
    phones = {int(p["id"]) for p in seen.export["participants"] if p["channel"] == "phone"}
    missing = {p.pid for p in world.joins_acked} - phones
    if missing:
        world.problem(cycle, LOST, f"acknowledged joins: participants {sorted(missing)}")
        world.joins_acked = [p for p in world.joins_acked if p.pid not in missing]
        for people in world.people.values():
            people[:] = [p for p in people if p.pid not in missing]
    extra = len(phones) - len(world.joins_acked)
    if not 0 <= extra <= world.joins_uncertain:
        world.problem(cycle, COUNTS, f"{len(phones)} phone participants on the server for "
                      f"{len(world.joins_acked)} acknowledged joins and "
                      f"{world.joins_uncertain} uncertain ones")
    joined = seen.state["presence"]["joined"]
    if joined != len(seen.export["participants"]):
        world.problem(cycle, COUNTS, f"the state API counts {joined} participants, the "
                      "database "
                      f"{len(seen.export['participants'])}")

    # Paper cards: the helper page's count, the cards typed.
    paper = [p for p in seen.export["participants"] if p["channel"] == "paper"]
    if not seen.card_count == len(paper) == len(seen.card_pid):
        world.problem(cycle, COUNTS, f"paper cards: the helper page says {seen.card_count}, "
                      "the "
                      f"database has {len(paper)} paper participants, {len(seen.card_pid)} "
                      "cards")
    used = {key[2] for key, slot in world.slots.items()
            if key[0] in ("card", "card_vote") and slot.value != ABSENT}
    maybe = {key[2] for key, slot in world.slots.items()
             if key[0] in ("card", "card_vote") and (slot.pending or slot.tainted)}
    cards = set(seen.card_pid)
    if not used <= cards or (cards - used - (set() if exact else maybe)):
        world.problem(cycle, COUNTS, f"cards on the server {sorted(cards)} but acknowledged "
                      f"{sorted(used)} (uncertain {sorted(maybe)})")

    # The séance is where it was.
    step = seen.state["step"]["position"] if seen.state["step"] else None
    if step != world.expected_step:
        world.problem(cycle, STATE, f"the séance is at step {step}, it was at "
                      f"{world.expected_step}")
    states = {q["id"]: q["state"] for q in seen.export["questions"]}
    for question in world.ids.questions:
        if states.get(question["id"]) != "open":
            world.problem(cycle, STATE, f"question {question['id']} is "
                          f"{states.get(question['id'])}"
                          ", it was open")
    voting = world.vote_step_id is not None and world.expected_step == world.ids.positions["vote"]
    if voting and seen.state.get("vote", {}).get("open") is not True:
        world.problem(cycle, STATE, f"the vote is no longer open: {seen.state.get('vote')}")

    if exact and len(world.problems) == before:
        check_results(world, cycle, seen)


def check_results(world: World, cycle: int, seen: Observed) -> None:
    """The results the facilitator sees (from the server's memory) match the writes."""
    for question in world.ids.questions:
        values = [slot.value for key, slot in world.slots.items()
                  if key[0] in ("answer", "card") and key[1] == question["id"]
                  and slot.value != ABSENT]
        got = seen.results[question["id"]]
        if got["n"] != len(values):
            world.problem(cycle, COUNTS, f"question {question['id']}: results n={got['n']}, "
                          f"{len(values)} answers acknowledged")
        if question["kind"] == "ranking":
            continue
        wanted = Counter(c for value in values for c in value)
        counts = {c["id"]: c["count"] for c in got["choices"]}
        if counts != {c["id"]: wanted[c["id"]] for c in question["choices"]}:
            world.problem(cycle, COUNTS, f"question {question['id']}: counts {counts}, "
                          "expected "
                          f"{dict(wanted)}")


# After a restart ----------------------------------------------------------------------------


async def joins_right_after_restart(world: World, http: httpx.AsyncClient, cycle: int,
                                    n: int = 6) -> None:
    """The very first requests after a restart: each join is seen by the next request."""
    code = world.ids.code

    async def one() -> None:
        response = await call(http, "POST", "/api/sessions/join", json={"code": code})
        if response.status_code != 201:
            world.problem(cycle, STREAM, f"join right after restart: {response.status_code} "
                          f"{response.text[:200]!r}")
            return
        data = response.json()
        person = Person(data["token"], int(data["participant_id"]))
        world.joins_acked.append(person)
        seen = await call(http, "GET", f"/api/sessions/{code}/state", headers=person.headers)
        if seen.status_code != 200:
            world.problem(cycle, UNSEEN, f"state right after an acknowledged join, right after "
                          "the "
                          f"restart: {seen.status_code} {seen.text[:200]!r}")

    await asyncio.gather(*(one() for _ in range(n)))


async def send_again(world: World, http: httpx.AsyncClient, helper_csrf: str,
                     sent: Sent) -> httpx.Response:
    headers = {"idempotency-key": sent.key} if sent.form is None else {}
    if sent.bearer:
        headers["authorization"] = f"Bearer {sent.bearer}"
    for _ in range(50):
        if sent.form is not None:
            response = await http.post(sent.path, data={**sent.form, "csrf": helper_csrf},
                                       headers=headers)
        else:
            response = await http.post(sent.path, json=sent.json, headers=headers)
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.2)
    return response


async def retry_uncertain(world: World, http: httpx.AsyncClient, helper_csrf: str,
                          cycle: int, seen: Observed) -> int:
    """Every write left without an answer is sent again with its same key, as a phone
    would: it is acknowledged, and counted once (checked by the next `check`)."""
    actual = actual_values(world, seen)
    count = 0
    for key, slot in world.slots.items():
        if slot.pending is None or slot.tainted:
            continue
        sent, count = slot.pending, count + 1
        response = await send_again(world, http, helper_csrf, sent)
        if response.status_code in sent.ok:
            value = response.json()["id"] if sent.kind == "proposal" else slot.pending_value
            slot.value, slot.pending, slot.pending_value = value, None, None
            slot.acked.append(sent)
            sent.status, sent.body = response.status_code, (
                response.json() if sent.form is None else None)
        else:
            world.problem(cycle, RETRY, f"{slot.label}: a write left without an answer by the "
                          "crash"
                          f", sent again with its same key ({sent.key}), got "
                          f"{brief(response)}; on the server "
                          f"before the retry: {actual.get(key, ABSENT)!r}")
            slot.value, slot.pending, slot.pending_value = actual.get(key, ABSENT), None, None
    return count


async def replay_acknowledged(world: World, http: httpx.AsyncClient, helper_csrf: str,
                              cycle: int, rng: random.Random) -> list[str]:
    """A few acknowledged writes sent again with their same key: answered like the first
    time, counted once. Preferred: writes a later one replaced, the answer that may not
    change, and the proposal that reached its author's limit."""
    chosen: dict[str, tuple[Slot, int]] = {}

    def candidates(kind: str, key_kind: str, *, superseded: bool = False,
                   question: int | None = None) -> list[tuple[Slot, int]]:
        out = []
        for key, slot in world.slots.items():
            if key[0] != key_kind or slot.tainted or (question and key[1] != question):
                continue
            for i, sent in enumerate(slot.acked):
                if sent.kind == kind and (not superseded or i < len(slot.acked) - 1):
                    out.append((slot, i))
        return out

    ids = world.ids
    for name, kind, key_kind, question in (
            ("answer (since changed)", "answer", "answer", ids.single["id"]),
            ("answer that may not change", "answer", "answer", ids.ranking["id"]),
            ("paper card (since corrected)", "card", "card", None),
            ("vote (since changed)", "vote", "vote", None),
            ("vote card", "card_vote", "card_vote", None),
            ("paper proposal", "paper_proposal", "proposal", None)):
        pool = candidates(kind, key_kind, superseded=True, question=question) or \
            candidates(kind, key_kind, question=question)
        if pool:
            chosen[name] = rng.choice(sorted(pool, key=lambda p: p[0].acked[p[1]].key))
    at_limit = {p.token for people in world.people.values() for p in people
                if p.proposals >= 3}
    pool = candidates("proposal", "proposal")
    limited = [p for p in pool if p[0].acked[p[1]].bearer in at_limit]
    if pool:
        chosen["proposal (its author's third)" if limited else "proposal"] = rng.choice(
            sorted(limited or pool, key=lambda p: p[0].acked[p[1]].key))

    later = world.expected_step != ids.positions["proposals"]
    for name, (slot, i) in chosen.items():
        sent = slot.acked[i]
        if later and "proposal" in name:
            name += ", once the proposals step is over"
        response = await send_again(world, http, helper_csrf, sent)
        same = response.status_code == sent.status and (
            sent.form is not None or response.json() == sent.body)
        if not same:
            world.problem(cycle, REPLAY, f"{name} {slot.label}, acknowledged ({sent.status} "
                          f"{sent.body!r}), sent again after the restart with its same key "
                          f"({sent.key}): got {brief(response)}")
    return list(chosen)


# Setting up ------------------------------------------------------------------------------


async def form_post(http: httpx.AsyncClient, page: str, path: str, **data: str) -> None:
    html = (await call(http, "GET", page)).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf, f"no CSRF field on {page}"
    response = await call(http, "POST", path, data={"csrf": csrf.group(1), **data})
    assert response.status_code == 303, f"POST {path}: {response.status_code} " \
        f"{response.text[:500]}"


async def helper_csrf(http: httpx.AsyncClient, token: str) -> str:
    html = (await call(http, "GET", f"/h/{token}")).text
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the helper page"
    return found.group(1)


async def discover(server: Server, db: Path, http: httpx.AsyncClient) -> Ids:
    code, fac = server.code, server.token("facilitator")
    export = (await call(http, "GET", f"/f/{fac}/report/json")).json()
    positions: dict[str, int] = {}
    for step in export["steps"]:
        positions.setdefault(step["kind"], step["position"])
    moved = await call(http, "POST", f"/api/sessions/{code}/step",
                       json={"position": positions["poll"]},
                       headers={"authorization": f"Bearer {fac}"})
    assert moved.status_code == 200, moved.text
    questions = moved.json()["questions"]
    kinds = {q["kind"]: q for q in reversed(questions)}
    assert {"single", "multiple", "ranking"} <= kinds.keys(), \
        f"the demo's poll step should have single, multiple and ranking questions: {questions}"
    single, multiple, ranking = kinds["single"], kinds["multiple"], kinds["ranking"]
    assert ranking["allow_change"] is False and single["allow_change"] is True
    return Ids(code, fac, server.token("helper"), int(export["seance"]["id"]), positions,
               single, multiple, ranking)


async def enter_phase(world: World, http: httpx.AsyncClient, phase: str) -> None:
    """Move the séance to the phase's step (and open the vote), as the facilitator."""
    ids = world.ids
    fac = {"authorization": f"Bearer {ids.fac}"}
    target = ids.positions[phase]
    if world.expected_step == target:
        return
    moved = await call(http, "POST", f"/api/sessions/{ids.code}/step",
                       json={"position": target}, headers=fac)
    assert moved.status_code == 200, moved.text
    world.expected_step = target
    if phase == "vote":
        page = f"/f/{ids.fac}"
        await form_post(http, page, f"{page}/vote", method="agree", target="proposals",
                        points="5", max_per_item="3")
        await form_post(http, page, f"{page}/vote/open")
        state = (await call(http, "GET", f"/api/sessions/{ids.code}/state",
                            headers=fac)).json()
        assert state["vote"]["open"] is True, state
        world.vote_items = [item["id"] for item in state["vote"]["items"]]
        assert world.vote_items, "nothing to vote on: no proposal survived?"
        export = (await call(http, "GET", f"/f/{ids.fac}/report/json")).json()
        world.vote_step_id = next(s["id"] for s in export["steps"]
                                  if s["position"] == target)


def server_errors(world: World, cycle: int, server: Server) -> None:
    """A server that logged a traceback (a failed commit, a failed hook…) is a problem."""
    output = "".join(server.output)
    if "Traceback" in output or " ERROR" in output or "ERROR:" in output:
        world.problem(cycle, ERRORS, "the server logged errors:\n" + output[-4000:])


# The test --------------------------------------------------------------------------------------


def test_acknowledged_writes_survive_repeated_sigkill(tmp_path: Path, store: str) -> None:
    seed = int(os.environ.get("ECLAIR_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"crash test seed: {seed} (ECLAIR_CRASH_SEED={seed} to replay)")
    db = tmp_path / "crash.db"
    started = time.monotonic()
    summary: list[str] = []
    worlds: list[World] = []
    try:
        url = stores.fresh_database() if store == "postgres" else ""
        world = asyncio.run(run_cycles(seed, db, summary, worlds, url))
    except Exception as error:  # the test itself could not go on: say what it saw so far
        so_far = worlds[0].report() if worlds and worlds[0].problems else "none"
        raise AssertionError(f"seed {seed}: the crash test stopped: {error!r}\nproblems so "
                             f"far: {so_far}\ncycles:\n" + "\n".join(summary)) from error
    took = time.monotonic() - started
    print("\n".join(summary))
    print(f"{CYCLES} cycles in {took:.1f} s")
    in_flight = sum(int(line.split("in flight at the kill=")[1].split()[0])
                    for line in summary if "in flight at the kill=" in line)
    assert not world.problems, (
        f"seed {seed}: {len(world.problems)} problem(s) over {CYCLES} crashes:\n"
        + world.report() + "\n\ncycles:\n" + "\n".join(summary))
    assert in_flight > 0, f"seed {seed}: no request was ever in flight at a kill:\n" + \
        "\n".join(summary)


UNLIMITED = {"ECLAIR_RATE_LIMITS": "0"}


async def run_cycles(seed: int, db: Path, summary: list[str], worlds: list[World],
                     url: str = "") -> World:
    rng = random.Random(seed)
    port = free_port()
    # Hundreds of people streamed from one test client: the rate limits (tested apart, in
    # test_limits.py) would refuse what this test must see acknowledged.
    env = {**UNLIMITED, "DATABASE_URL": url} if url else UNLIMITED
    server = Server(db, port, env=env).start()
    try:
        async with httpx.AsyncClient(base_url=server.base, timeout=TIMEOUT,
                                     headers={"accept-language": "fr-FR"}) as http:
            ids = await discover(server, db, http)
            for question in (ids.single, ids.multiple, ids.ranking):
                opened = await call(
                    http, "POST", f"/api/sessions/{ids.code}/questions/{question['id']}/open",
                    headers={"authorization": f"Bearer {ids.fac}"})
                assert opened.status_code == 200, opened.text
            export = (await call(http, "GET", f"/f/{ids.fac}/report/json")).json()
        world = World(seed, db, ids, url=url, expected_step=ids.positions["poll"],
                      baseline_proposals={int(p["id"]) for p in export["proposals"]})
        worlds.append(world)

        for cycle, phase in enumerate(PHASES[:CYCLES], start=1):
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
            async with httpx.AsyncClient(base_url=server.base, timeout=TIMEOUT, limits=limits,
                                         headers={"accept-language": "fr-FR"}) as http:
                await enter_phase(world, http, phase)
                stream = Stream(world, server, http, cycle, phase,
                                await helper_csrf(http, ids.helper))
                ran = await stream.run(rng)
            pending = sum(1 for s in world.slots.values() if s.pending is not None)
            server_errors(world, cycle, server)

            restart = time.monotonic()
            server = Server(db, port, env=env).start()  # same store, same port
            restarted = time.monotonic() - restart
            if server.code != ids.code or server.token("facilitator") != ids.fac:
                world.problem(cycle, STATE, "the restart imported the demo again (new code or "
                              "links)")
            async with httpx.AsyncClient(base_url=server.base, timeout=TIMEOUT,
                                         headers={"accept-language": "fr-FR"}) as http:
                await joins_right_after_restart(world, http, cycle)
                seen = await observe(world, http)
                check(world, cycle, seen, exact=False)
                csrf = await helper_csrf(http, ids.helper)
                retried = await retry_uncertain(world, http, csrf, cycle, seen)
                replayed = await replay_acknowledged(world, http, csrf, cycle, rng)
                check(world, cycle, await observe(world, http), exact=True)
            stats = stream.stats
            summary.append(
                f"cycle {cycle} ({phase}): streamed {ran:.1f} s, "
                f"acked={stats['acked']} (answers {stats['answer']}, cards {stats['card']}, "
                f"proposals {stats['proposal']}+{stats['paper_proposal']} paper, votes "
                f"{stats['vote']}+{stats['card_vote']} cards), busy 503={stats['busy']}, "
                f"in flight at the kill={stats['in flight at the kill']} "
                f"uncertain={pending}, retried={retried}, replayed={len(replayed)}, "
                f"restart {restarted:.1f} s")
        server_errors(world, CYCLES, server)
        return world
    finally:
        server.stop()

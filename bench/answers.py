"""Joins, the projector, answers at fixed offered rates (open loop) and the count check.

Open loop: each answer has a scheduled send time, rate × duration of them evenly spaced;
the scheduler sleeps until the next one is due and never waits for responses. Latency runs
from the scheduled time, so waiting in the client (for a free connection, or because the
client fell behind) is counted, and how late the client started each request is reported
as client lag.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import contract as api
from figures import Cpu, summary_ms
from rawhttp import HttpError, Pool, Response, Timeout

# The scheduler sleeps at least this long: uvloop's timers have a 1 ms resolution, and a
# shorter sleep returns at once (a busy loop that would eat the client's core).
TICK = 0.001


async def retrying(pool: Pool, method: str, path: str, headers: dict[str, str],
                   body: bytes | None, deadline: float) -> tuple[Response, int]:
    """A request sent again after each 503 (waiting Retry-After) until `deadline`, as a
    phone does; the last response and how many refusals it took."""
    refusals = 0
    while True:
        response = await pool.request(method, path, headers, body, deadline)
        if response.status != api.REFUSED:
            return response, refusals
        refusals += 1
        wait = api.retry_after(response.headers)
        if time.perf_counter() + wait >= deadline:
            return response, refusals
        await asyncio.sleep(wait)


@dataclass
class Target:
    """A server under test, as the client sees it."""

    pool: Pool
    code: str
    facilitator: str
    screen: str
    pid: int

    async def facilitate(self, method: str, path: str, body: bytes | None = None) -> Any:
        headers = {**api.bearer(self.facilitator), **(api.JSON if body is not None else {})}
        response, _ = await retrying(self.pool, method, path, headers, body,
                                     time.perf_counter() + 30)
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {response.body[:300]!r}")
        return response.json()


async def join_burst(target: Target, count: int, in_flight: int,
                     time_limit: float) -> tuple[list[str], dict[str, Any]]:
    """`count` joins, `in_flight` at a time (closed loop); the tokens and the figures."""
    tokens: list[str] = []
    latencies: list[float] = []
    failures: collections.Counter[str] = collections.Counter()
    refused = 0
    next_index = 0
    body = api.join_body(target.code)

    async def worker() -> None:
        nonlocal next_index, refused
        while next_index < count:
            next_index += 1
            start = time.perf_counter()
            try:
                response, refusals = await retrying(target.pool, "POST", api.JOIN_PATH,
                                                    api.JSON, body, start + time_limit)
                refused += refusals
            except (Timeout, HttpError, OSError) as error:
                failures[type(error).__name__] += 1
                continue
            if response.status == api.JOIN_CREATED:
                tokens.append(api.join_token(response.json()))
                latencies.append(time.perf_counter() - start)
            else:
                failures[str(response.status)] += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = time.perf_counter() - start
    return tokens, {"requested": count, "joined": len(tokens), "in_flight": in_flight,
                    "seconds": round(elapsed, 2), "per_s": round(len(tokens) / elapsed, 1),
                    "latency": summary_ms(latencies), "failures": dict(failures),
                    "refused_503_then_retried": refused}


class Projector:
    """Records when each projector message arrives and the n it shows."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.shown: list[int] = []
        self.messages = 0
        self.sizes: list[int] = []

    def on_message(self, _client: object, text: str, at: float) -> None:
        self.messages += 1
        self.sizes.append(len(text.encode()))
        n = api.shown_n(text)
        if n is not None:
            self.times.append(at)
            self.shown.append(max(n, self.shown[-1]) if self.shown else n)  # running max

    def first_showing(self, k: int) -> float | None:
        """Arrival time of the first message showing n >= k."""
        i = bisect.bisect_left(self.shown, k)
        return self.times[i] if i < len(self.times) else None


class Ledger:
    """What each participant has had acknowledged, to check the server's counts exactly.

    A participant has at most one answer in flight, so its acknowledgements come in the
    order its answers were sent and its last acknowledged choice is what must be counted.
    A request whose outcome is unknown (timed out after it was sent, connection lost, 5xx
    other than 503) retires its participant, whose count is then one of two values.
    """

    def __init__(self, participants: int, choices: tuple[int, ...]) -> None:
        self.choices = choices
        self.fresh: collections.deque[int] = collections.deque(range(participants))
        self.ready: collections.deque[int] = collections.deque()
        self.last: dict[int, int] = {}
        self.unknown: dict[int, set[int | None]] = {}
        self.sent = [0] * participants
        self.respondents = 0  # participants with an acknowledged answer, in ack order

    def take(self, want_fresh: bool) -> int | None:
        if want_fresh and self.fresh:
            return self.fresh.popleft()
        if self.ready:
            return self.ready.popleft()
        return self.fresh.popleft() if self.fresh else None

    def choice_for(self, who: int) -> int:
        choice = self.choices[(who + self.sent[who]) % len(self.choices)]
        self.sent[who] += 1
        return choice

    def acknowledged(self, who: int, choice: int) -> int:
        """Record a 201; return the respondent's ordinal if this is their first, else 0."""
        first = who not in self.last
        self.last[who] = choice
        self.ready.append(who)
        if first:
            self.respondents += 1
            return self.respondents
        return 0

    def not_recorded(self, who: int) -> None:
        (self.ready if who in self.last else self.fresh).append(who)

    def outcome_unknown(self, who: int, choice: int) -> None:
        self.unknown[who] = {self.last.get(who), choice}

    def check(self, tally: api.Tally) -> dict[str, Any]:
        """Compare the server's counts with what was acknowledged."""
        definite = [c for who, c in self.last.items() if who not in self.unknown]
        sure = [p for p in self.unknown.values() if None not in p]
        n_min, n_max = len(definite) + len(sure), len(definite) + len(self.unknown)
        problems = []
        if not n_min <= tally.n <= n_max:
            problems.append(f"n = {tally.n}, expected {n_min}" +
                            (f"..{n_max}" if n_max != n_min else ""))
        if sum(tally.counts.values()) != tally.n:
            problems.append(f"choice counts add up to {sum(tally.counts.values())}, n = {tally.n}")
        expected = {}
        for choice in self.choices:
            low = definite.count(choice) + sum(1 for p in self.unknown.values() if p == {choice})
            high = low + sum(1 for p in self.unknown.values() if choice in p and len(p) > 1)
            got = tally.counts.get(choice, 0)
            expected[choice] = [low, high]
            if not low <= got <= high:
                problems.append(f"choice {choice}: {got}, expected {low}" +
                                (f"..{high}" if high != low else ""))
        return {"ok": not problems, "exact": not self.unknown, "problems": problems,
                "n": tally.n, "expected_n": [n_min, n_max], "counts": tally.counts,
                "expected_counts": expected, "outcome_unknown": len(self.unknown)}


@dataclass
class Phase:
    rate: float
    scheduled: int
    t_start: float
    lag: list[float] = field(default_factory=list)  # client: request started - scheduled
    acked: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    new_respondents: list[tuple[int, float]] = field(default_factory=list)  # (ordinal, t)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    skipped = 0  # no participant free to answer (all had an answer in flight)
    last_response = 0.0
    retry_after: set[str] = field(default_factory=set)


async def answer_phase(target: Target, tokens: list[str], ledger: Ledger, question: int,
                       rate: float, duration: float, time_limit: float,
                       fresh_share: float) -> Phase:
    count = max(1, round(rate * duration))
    phase = Phase(rate, count, time.perf_counter() + 0.02)
    path = api.answer_path(target.code, question)
    tasks: set[asyncio.Task[None]] = set()

    async def one(who: int, scheduled: float) -> None:
        choice = ledger.choice_for(who)
        headers = {**api.bearer(tokens[who]), **api.JSON,
                   api.IDEMPOTENCY_HEADER: uuid.uuid4().hex}
        phase.lag.append(time.perf_counter() - scheduled)
        try:
            response = await target.pool.request("POST", path, headers, api.answer_body(choice),
                                                 deadline=scheduled + time_limit)
        except Timeout as error:
            phase.errors["timeout (sent)" if error.sent else "timeout (never sent)"] += 1
            (ledger.outcome_unknown(who, choice) if error.sent else ledger.not_recorded(who))
            return
        except (HttpError, OSError) as error:
            phase.errors[type(error).__name__] += 1
            ledger.outcome_unknown(who, choice)
            return
        finally:
            phase.last_response = time.perf_counter()
        elapsed = phase.last_response - scheduled
        if response.status == api.ANSWER_CREATED:
            phase.acked.append(elapsed)
            ordinal = ledger.acknowledged(who, choice)
            if ordinal:
                phase.new_respondents.append((ordinal, phase.last_response))
        elif response.status == api.REFUSED:
            phase.refused.append(elapsed)
            phase.retry_after.add(response.headers.get("retry-after", "(none)"))
            ledger.not_recorded(who)
        else:
            phase.errors[f"HTTP {response.status}"] += 1
            if response.status >= 500:
                ledger.outcome_unknown(who, choice)
            else:
                ledger.not_recorded(who)

    owed = 0.0
    i = 0
    while i < count:
        due = min(count, math.floor((time.perf_counter() - phase.t_start) * rate) + 1)
        while i < due:
            scheduled = phase.t_start + i / rate
            owed += fresh_share
            who = ledger.take(owed >= 1)
            if owed >= 1:
                owed -= 1
            if who is None:
                phase.skipped += 1
            else:
                task = asyncio.create_task(one(who, scheduled))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            i += 1
        if i < count:
            await asyncio.sleep(max(phase.t_start + i / rate - time.perf_counter(), TICK))
    while tasks:
        await asyncio.gather(*list(tasks))
    return phase


def phase_report(phase: Phase, projector: Projector, cpu: dict[str, float]) -> dict[str, Any]:
    window = max(phase.last_response - phase.t_start, 1e-9)
    lags = []
    never = 0
    for ordinal, acked_at in phase.new_respondents:
        shown_at = projector.first_showing(ordinal)
        if shown_at is None:
            never += 1
        else:
            lags.append(max(shown_at - acked_at, 0.0))
    return {
        "offered_per_s": phase.rate, "scheduled": phase.scheduled,
        "acked": len(phase.acked), "acked_per_s": round(len(phase.acked) / window, 1),
        "window_s": round(window, 2), "latency_acked": summary_ms(phase.acked),
        "refused_503": len(phase.refused), "latency_503": summary_ms(phase.refused),
        "retry_after": sorted(phase.retry_after), "errors": dict(phase.errors),
        "skipped_no_free_participant": phase.skipped,
        "client_lag": summary_ms(phase.lag),
        "projector_lag": {**summary_ms(lags), "never_shown": never},
        "cpu_percent": cpu,
    }


async def run_answers(target: Target, tokens: list[str], question: api.Poll,
                      rates: list[float], duration: float, time_limit: float, gap: float,
                      projector: Projector) -> tuple[list[dict[str, Any]], Ledger]:
    """Every rate in turn; new respondents spread over the phases so that each phase has
    some (their acknowledgement is what the projector lag is measured on)."""
    ledger = Ledger(len(tokens), question.choices)
    total = sum(max(1, round(r * duration)) for r in rates)
    share = min(1.0, len(tokens) / total)
    phases: list[tuple[Phase, dict[str, float]]] = []
    for rate in rates:
        cpu = Cpu(target.pid)
        phase = await answer_phase(target, tokens, ledger, question.question_id, rate,
                                   duration, time_limit, share)
        phases.append((phase, cpu.read()))
        await asyncio.sleep(gap)
    await asyncio.sleep(1.0)  # the projector's last redraws
    return [phase_report(p, projector, cpu) for p, cpu in phases], ledger


async def settled_tally(target: Target, question: int, quiet: float = 1.0,
                        limit: float = 30.0) -> api.Tally:
    """The results once they stop moving (writes still queued after timeouts land)."""
    path = api.results_path(target.code, question)
    last = api.tally(await target.facilitate("GET", path))
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        await asyncio.sleep(quiet)
        now = api.tally(await target.facilitate("GET", path))
        if now == last:
            return now
        last = now
    return last


async def idempotency_probe(target: Target, token: str, question: api.Poll,
                            before: api.Tally) -> dict[str, Any]:
    """A: key1 -> 201, B: key2 -> 201, then A again with key1 (a retry). Honoured, B stays;
    not honoured, A wins. Either way the participant must count once."""
    a, b = question.choices[0], question.choices[1]
    key1, key2 = uuid.uuid4().hex, uuid.uuid4().hex
    path = api.answer_path(target.code, question.question_id)
    statuses = []
    for choice, key in ((a, key1), (b, key2), (a, key1)):
        headers = {**api.bearer(token), **api.JSON, api.IDEMPOTENCY_HEADER: key}
        response, _ = await retrying(target.pool, "POST", path, headers,
                                     api.answer_body(choice), time.perf_counter() + 30)
        statuses.append(response.status)
    after = await settled_tally(target, question.question_id)
    gained = {c: after.counts.get(c, 0) - before.counts.get(c, 0) for c in question.choices}
    honoured = after.n == before.n + 1 and gained[b] == 1 and sum(gained.values()) == 1
    last_write = after.n == before.n + 1 and gained[a] == 1 and sum(gained.values()) == 1
    return {"statuses": statuses, "replay_honoured": honoured,
            "ok": statuses[:2] == [201, 201] and (honoured or last_write),
            "verdict": "retry replayed, counted once" if honoured else
            "retry applied as a new write (last write wins), counted once" if last_write else
            f"WRONG: n {before.n} -> {after.n}, gained {gained}"}

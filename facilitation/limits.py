"""Rate limits: how fast one network address and one participant may join, answer, propose,
vote and send SMS (the organiser's login has its own, security.LoginThrottle).

In memory only. An address is kept as a digest keyed with a secret of this process (an IPv6
address by its /64, what one home or phone holds), never stored and never logged, and
forgotten once its budget is full again.

A whole room shares one Wi-Fi address, so an address's budget is a room's: token buckets
whose burst admits a room arriving at once and whose refill admits late arrivals, while a
script behind the same address gets no more than a room would. Each participant has a
person's budget on top. What one address can still do (a room's worth of voices) is bounded
further where it counts: proposals per step (`reserve_proposals`), the facilitator's
headcount beside the joins, and excluding a participant.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from facilitation.i18n_keys import N_, UserError
from facilitation.settings import Settings

MAX_KEYS = 50_000  # buckets per kind before the idle ones are forgotten


@dataclass(frozen=True)
class Budget:
    burst: float  # how many at once
    per_minute: float  # then how many a minute


# A person's pace, whatever the network: answers (a poll, changed answers), votes (one
# request per item with agree/disagree/pass), proposals, SMS.
PERSON = {
    "answer": Budget(10, 30),
    "vote": Budget(30, 60),
    "proposal": Budget(10, 10),
    "sms": Budget(5, 10),
}
# An address may send what a room of `join_burst` people would at once, per kind: each
# answers a question or two in a burst, votes on several items, sends a proposal.
ROOM_FACTOR = {
    "answer": Budget(2, 4),
    "vote": Budget(4, 10),
    "proposal": Budget(1, 2),
    "sms": Budget(2, 4),
}
SMS_SECRET = Budget(10, 6)  # wrong gateway secrets per address

# Each message names who is sending too fast, then the wait; the short `reason` is what a
# phone with JavaScript shows while it sends the same thing again by itself.
NETWORK_JOINS = N_("Many phones are joining from this network.")
NETWORK_JOINS_WAIT = N_("Many phones are joining from this network. "
                        "Wait %(seconds)s seconds, then try again.")
NETWORK_SENDS = N_("Many phones are sending from this network.")
NETWORK_SENDS_WAIT = N_("Many phones are sending from this network. "
                        "Wait %(seconds)s seconds, then send it again.")
PERSON_SENDS = N_("You are sending very fast.")
PERSON_SENDS_WAIT = N_("You are sending very fast. Wait %(seconds)s seconds, then send it "
                       "again.")
TOO_MANY_TRIES = N_("Too many tries. Wait %(seconds)s seconds, then try again.")
NETWORK_PROPOSALS = N_("This network has sent all the proposals planned for the people in "
                       "the room. Ask the facilitator.")


class RateLimited(UserError):
    """Refused for going too fast: 429, to be sent again after `retry_after` seconds."""

    def __init__(self, message: str, reason: str, wait: float) -> None:
        # At least 2: "1 seconds" would need a plural form, and a second more costs nothing.
        seconds = max(2, math.ceil(wait))
        super().__init__(message, 429, seconds=seconds)
        self.reason = reason
        self.retry_after = seconds


@dataclass(frozen=True)
class Client:
    """Who sends a request, as the limits know it: a keyed digest of its network address."""

    key: bytes


_PROCESS_KEY = secrets.token_bytes(32)


def client_of(conn: Any) -> Client:
    """The client of a request or WebSocket (anything with a `client` like Starlette's)."""
    host = conn.client.host if conn.client else ""
    return Client(address_key(host))


def address_key(host: str) -> bytes:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raw = host.encode()  # not an IP address (a test client, a Unix socket)
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if isinstance(address, ipaddress.IPv6Address):
            # One home or one phone holds a whole /64: it is one client.
            raw = ipaddress.IPv6Network(f"{address}/64", strict=False).network_address.packed
        else:
            raw = address.packed
    return hmac.new(_PROCESS_KEY, raw, hashlib.blake2b).digest()[:16]


class Buckets:
    """Token buckets by key: each holds up to `burst` tokens and gains `per_minute` a
    minute; taking one when none is left says how long to wait."""

    def __init__(self, budget: Budget, clock: Callable[[], float],
                 max_keys: int = MAX_KEYS) -> None:
        self.burst = float(budget.burst)
        self.rate = budget.per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> tokens, when

    def _tokens(self, key: Hashable, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return self.burst
        tokens, at = found
        return min(self.burst, tokens + (now - at) * self.rate)

    def wait(self, key: Hashable, cost: float = 1.0) -> float:
        """Seconds before `cost` tokens are there (0: now), taking nothing."""
        tokens = self._tokens(key, self.clock())
        return 0.0 if tokens >= cost else (cost - tokens) / self.rate

    def take(self, key: Hashable, cost: float = 1.0) -> float:
        """Take `cost` tokens and return 0, or take nothing and return the wait."""
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens < cost:
            return (cost - tokens) / self.rate
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._forget(now)
        self._buckets[key] = (tokens - cost, now)
        return 0.0

    def _forget(self, now: float) -> None:
        """Drop the buckets that are full again (no different from a new one); if that is
        not enough, the oldest half: an address forgotten starts again with a full budget."""
        for key in [k for k in self._buckets if self._tokens(k, now) >= self.burst]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            for key in list(self._buckets)[:self.max_keys // 2]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class Limits:
    """Every budget of the running server. `clock` can be replaced (tests move time)."""

    def __init__(self, settings: Settings | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        settings = settings or Settings()
        self.on = settings.rate_limits
        self.clock = clock
        room = settings.join_burst
        self.room = room

        def buckets(budget: Budget) -> Buckets:
            return Buckets(budget, lambda: self.clock())

        self.joins = buckets(Budget(room, settings.join_per_minute))
        self.network = {kind: buckets(Budget(f.burst * room, f.per_minute * room))
                        for kind, f in ROOM_FACTOR.items()}
        self.person = {kind: buckets(budget) for kind, budget in PERSON.items()}
        self.sms_secret = buckets(SMS_SECRET)
        # Proposals sent per (step, address): see `reserve_proposals`.
        self._proposals: dict[tuple[int, bytes], int] = {}

    # What people send ----------------------------------------------------------------

    def join(self, session_id: int, client: Client | None) -> None:
        """A join from `client` into a séance; RateLimited past the address's budget."""
        if not self.on or client is None:
            return
        wait = self.joins.take((session_id, client.key))
        if wait:
            raise RateLimited(NETWORK_JOINS_WAIT, NETWORK_JOINS, wait)

    def send(self, kind: str, session_id: int, person: Hashable,
             client: Client | None) -> None:
        """An answer, vote, proposal or SMS from one person (a participant, a phone number)
        through `client`: within the person's budget and the address's, or RateLimited.
        Nothing is taken from either unless both have room."""
        if not self.on:
            return
        own = self.person[kind]
        wait = own.wait(person)
        if wait:
            raise RateLimited(PERSON_SENDS_WAIT, PERSON_SENDS, wait)
        if client is not None:
            network = self.network[kind]
            wait = network.take((session_id, client.key))
            if wait:
                raise RateLimited(NETWORK_SENDS_WAIT, NETWORK_SENDS, wait)
        own.take(person)

    def reserve_proposals(self, step_id: int, client: Client | None,
                          allowed: int | None) -> Callable[[], None]:
        """One proposal of a step from `client`, within `allowed` for the address (the
        limit per person times the people in the room): joining again gives a new person
        their own limit, never the address more room. Returns what gives it back (the
        proposal was refused after all); raises UserError (409) when none is left."""
        if not self.on or client is None or allowed is None:
            return lambda: None
        key = (step_id, client.key)
        sent = self._proposals.get(key, 0)
        if sent >= allowed:
            raise UserError(NETWORK_PROPOSALS, 409)
        if len(self._proposals) >= MAX_KEYS and key not in self._proposals:
            self._proposals.clear()  # steps long gone; at worst a budget starts again
        self._proposals[key] = sent + 1

        def give_back() -> None:
            if self._proposals.get(key, 0) > 0:
                self._proposals[key] -= 1

        return give_back

    # The SMS gateway's secret ------------------------------------------------------

    def sms_secret_wait(self, client: Client) -> float:
        return self.sms_secret.wait(client.key)

    def sms_secret_failed(self, client: Client) -> None:
        self.sms_secret.take(client.key)

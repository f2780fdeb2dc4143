"""Secrets, passwords, CSRF, security headers, body limits and login throttling."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable

import argon2
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facilitation import limits

CSRF_COOKIE = "eclair_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Secret links live in URLs: never send them to another site.
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
}
# The projector is the one page shown inside another: the facilitator's preview of it.
SCREEN_HEADERS = {**HEADERS,
                  "content-security-policy": CSP.replace("frame-ancestors 'none'",
                                                         "frame-ancestors 'self'"),
                  "x-frame-options": "SAMEORIGIN"}
STATIC_HEADERS = {"x-content-type-options": "nosniff"}


def hash_token(token: str) -> str:
    """Participant tokens are stored only as this hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


# argon2id with RFC 9106's second recommended set (64 MiB, 3 passes, 4 lanes): about
# 0.15 s here. The scrypt hashes made before (16 MiB) still verify and are replaced by an
# argon2 one at the next successful login.
PASSWORDS = argon2.PasswordHasher.from_parameters(argon2.profiles.RFC_9106_LOW_MEMORY)


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def check_password(password: str, stored: str) -> bool:
    """Given a password and a stored hash (argon2, or the older scrypt), say if they match."""
    if stored.startswith("scrypt$"):
        return _check_scrypt(password, stored)
    try:
        return PASSWORDS.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """An old scheme, or argon2 with weaker settings than today's."""
    return stored.startswith("scrypt$") or PASSWORDS.check_needs_rehash(stored)


def _check_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, salt_b64, digest_b64 = stored.split("$")
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return hmac.compare_digest(digest, expected)


@functools.cache
def dummy_hash() -> str:
    """What an unknown name's password is checked against, so that it takes as long."""
    return hash_password(secrets.token_urlsafe(16))


def csrf_ok(cookie: str | None, sent: str | None) -> bool:
    """Double-submit check: the form field (or header) must equal the cookie."""
    return bool(cookie) and bool(sent) and hmac.compare_digest(str(cookie), str(sent))


def safe_next(url: str | None, default: str = "/") -> str:
    """Return a same-site path to go back to, never another site."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    return url


HSTS = "max-age=31536000"


class SecurityHeadersMiddleware:
    """Adds the CSP and friends to every HTTP response; HSTS when served over HTTPS (or
    behind a proxy that does, which secure cookies say); no-store on every download (a
    report or raw data stays out of shared caches and the browser's disk cache)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # Static files need only nosniff: every byte counts on a phone's first load.
        path = scope["path"]
        wanted = STATIC_HEADERS if path.startswith("/static/") else \
            SCREEN_HEADERS if path.startswith("/screen/") else HEADERS

        https = self.hsts or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("strict-transport-security", HSTS)
                if headers.get("content-disposition", "").startswith("attachment"):
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses request bodies over `limit` bytes with 413, before any view reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(send)


class BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = b"Request too large / Requ\xc3\xaate trop volumineuse"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class LoginThrottle:
    """Failed organiser logins, counted in memory only (never stored, never logged).

    Per client address, a limit: past `per_address` failures in `window` seconds the address
    is refused (429) before any password is checked, whatever the name, so trying one
    password over many names is limited as much as many passwords on one name. Per name, a
    slowdown that only a wrong password feels: past `per_name` failures, a wrong password is
    answered after a growing pause and with 429, but the right one still opens the account.
    Guessing from elsewhere can slow an account, never lock its organiser out.
    """

    def __init__(self, per_address: int = 10, per_name: int = 5, window: float = 900.0,
                 pause: float = 1.0, max_pause: float = 15.0, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_address = per_address
        self.per_name = per_name
        self.window = window
        self.pause = pause
        self.max_pause = max_pause
        self.max_keys = max_keys
        self.clock = clock
        self._addresses: OrderedDict[str, deque[float]] = OrderedDict()
        self._names: OrderedDict[str, deque[float]] = OrderedDict()
        # Each check holds 64 MiB for 0.15 s: two at a time (one per core), off the loop.
        self.hashing = asyncio.Semaphore(2)

    def address_wait(self, address: str) -> float:
        """Seconds before this address may try again; 0 if it may now."""
        failures = self._failures(self._addresses, self._address_key(address))
        if len(failures) < self.per_address:
            return 0.0
        return max(failures[-self.per_address] + self.window - self.clock(), 1.0)

    def attempt(self, address: str, name: str) -> float:
        """Count an attempt as failed until it succeeds: attempts sent at the same moment
        cannot pass the limit. Return the attempt's mark for `succeeded`."""
        at = self.clock()
        for table, key in ((self._addresses, self._address_key(address)), (self._names, name)):
            self._failures(table, key).append(at)
            while len(table) > self.max_keys:
                table.popitem(last=False)
        return at

    def succeeded(self, address: str, name: str, at: float) -> None:
        for table, key in ((self._addresses, self._address_key(address)), (self._names, name)):
            failures = table.get(key)
            if failures is not None and at in failures:
                failures.remove(at)

    def name_pause(self, name: str) -> float:
        """How long a wrong password for this name waits: 0 until it has had `per_name`
        failures, then 1 s, 2 s, 4 s… up to `max_pause`."""
        excess = len(self._failures(self._names, name)) - self.per_name
        return 0.0 if excess <= 0 else min(self.pause * 2 ** min(excess - 1, 16), self.max_pause)

    async def check(self, password: str, stored: str | None) -> bool:
        """Check a password off the event loop; with no stored hash (an unknown name),
        against a dummy one, so that the answer takes as long."""
        async with self.hashing:
            if stored is None:
                await asyncio.to_thread(check_password, password, dummy_hash())
                return False
            matched = await asyncio.to_thread(check_password, password, stored)
            if stored.startswith("scrypt$"):  # the old scheme is faster: pad it
                await asyncio.to_thread(check_password, password, dummy_hash())
            return matched

    async def hash(self, password: str) -> str:
        async with self.hashing:
            return await asyncio.to_thread(hash_password, password)

    def _address_key(self, address: str) -> str:
        # Held only as a keyed digest and, as the rate limits do, an IPv6 /64 as one client
        # (one home, one phone): rotating addresses inside it gives no fresh budget.
        return limits.address_key(address).hex()

    def _failures(self, table: OrderedDict[str, deque[float]], key: str) -> deque[float]:
        failures = table.get(key)
        if failures is None:
            failures = table[key] = deque(maxlen=max(self.per_address, self.per_name) + 32)
        table.move_to_end(key)
        cutoff = self.clock() - self.window
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures


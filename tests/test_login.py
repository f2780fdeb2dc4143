"""The organiser's login: throttled by address and by name without a lockout, the same time
for known and unknown names, logout ends the login on the server, argon2 hashes."""

import base64
import hashlib
import json
import logging
import statistics
import time
from contextlib import contextmanager

import pytest
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient

from facilitation import security
from facilitation.store import queries as q
from tests.conftest import csrf_of

PASSWORD = "correct horse battery"


@pytest.fixture
def orga(client: TestClient) -> TestClient:
    client.portal.call(q.upsert_organiser, client.app.state.db, "orga",
                       security.hash_password(PASSWORD))
    return client


@contextmanager
def from_address(client: TestClient, address: str):
    """Requests made inside come from `address` (the ASGI scope's client)."""
    transport = client._transport
    before = transport.client
    transport.client = (address, 50000)
    try:
        yield
    finally:
        transport.client = before


def log_in(client: TestClient, username: str = "orga", password: str = PASSWORD):
    token = csrf_of(client.get("/organiser/login").text)
    return client.post("/organiser/login", data={"csrf": token, "username": username,
                                                 "password": password},
                       follow_redirects=False)


def test_the_right_password_passes_after_100_wrong_ones_from_another_address(orga, caplog):
    caplog.set_level(logging.DEBUG)
    orga.app.state.login_throttle = security.LoginThrottle(pause=0.01, max_pause=0.05)
    statuses = []
    with from_address(orga, "203.0.113.66"):
        for _ in range(100):
            statuses.append(log_in(orga, password="guess").status_code)
    assert statuses[:5] == [401] * 5 and set(statuses) == {401, 429}
    with from_address(orga, "198.51.100.7"):
        r = log_in(orga)
    assert r.status_code == 303 and r.headers["location"].endswith("/organiser")
    assert orga.get("/organiser", follow_redirects=False).status_code == 200
    # Addresses stay in memory, as keyed digests, and never reach a log line.
    assert "203.0.113.66" not in caplog.text
    assert not any("203.0.113" in key for key in orga.app.state.login_throttle._addresses)


def test_spraying_names_from_one_address_gets_429_in_the_users_language(orga):
    with from_address(orga, "203.0.113.9"):
        statuses = [log_in(orga, username=f"user{i}", password="Summer2026!").status_code
                    for i in range(12)]
        assert statuses == [401] * 10 + [429] * 2
        r = log_in(orga)  # this address is refused, even with the right password
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 900
        assert "Trop d'essais manqués depuis cette connexion" in r.text
        assert "Réessayez dans 15 min" in r.text
        token = csrf_of(orga.get("/organiser/login").text)
        english = orga.post("/organiser/login", headers={"accept-language": "en"},
                            data={"csrf": token, "username": "x", "password": "y"})
        assert english.status_code == 429
        assert "Too many failed attempts from this connection" in english.text
    with from_address(orga, "198.51.100.7"):  # another address is not concerned
        assert log_in(orga).status_code == 303


def test_a_name_guessed_from_many_addresses_slows_wrong_passwords_only(orga):
    orga.app.state.login_throttle = security.LoginThrottle(pause=0.05, max_pause=0.2)
    statuses = []
    for i in range(8):
        with from_address(orga, f"203.0.113.{i}"):
            statuses.append(log_in(orga, password=f"guess {i}"))
    assert [r.status_code for r in statuses] == [401] * 5 + [429] * 3
    assert statuses[-1].headers["retry-after"] == "1"
    assert "Nom ou mot de passe incorrect" in statuses[-1].text
    with from_address(orga, "203.0.113.99"):
        started = time.perf_counter()
        assert log_in(orga, password="guess").status_code == 429
        assert time.perf_counter() - started >= 0.2  # the pause doubled up to its cap
        r = log_in(orga)  # the right password, from an address that has not failed
    assert r.status_code == 303


def test_known_and_unknown_names_answer_in_the_same_time(orga):
    orga.app.state.login_throttle = security.LoginThrottle(per_address=1000, per_name=1000)
    token = csrf_of(orga.get("/organiser/login").text)

    def timed(username: str) -> float:
        started = time.perf_counter()
        r = orga.post("/organiser/login", data={"csrf": token, "username": username,
                                                "password": "not the password"})
        assert r.status_code == 401
        return time.perf_counter() - started

    timed("orga"), timed("nobody")  # warm up: the dummy hash is made once
    known, unknown = [], []
    for i in range(7):
        known.append(timed("orga"))
        unknown.append(timed(f"nobody{i}"))
    ratio = statistics.median(unknown) / statistics.median(known)
    print(f"\nlogin: known {statistics.median(known) * 1000:.0f} ms, unknown "
          f"{statistics.median(unknown) * 1000:.0f} ms (median of 7), ratio {ratio:.2f}")
    assert 0.5 <= ratio <= 2.0


def test_logout_ends_the_login_on_the_server(orga):
    assert log_in(orga).status_code == 303
    old_cookie = orga.cookies.get("eclair_organiser")
    assert orga.get("/organiser", follow_redirects=False).status_code == 200
    token = csrf_of(orga.get("/organiser").text)
    assert orga.post("/organiser/logout", data={"csrf": token},
                     follow_redirects=False).status_code == 303
    orga.cookies.set("eclair_organiser", old_cookie)  # kept by whoever copied it
    r = orga.get("/organiser", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/organiser/login")
    assert orga.post("/organiser/workshops", data={"csrf": token, "title": "X"},
                     follow_redirects=False).status_code == 303
    rows = orga.portal.call(orga.app.state.db.fetchall,
                            "SELECT * FROM organiser_sessions", ())
    assert rows == []


def test_a_signed_cookie_alone_opens_nothing(orga):
    """The cookie of the earlier versions ({"organiser": 1}, validly signed), or one naming
    a login the server never opened, is refused."""
    signer = TimestampSigner(str(orga.app.state.secret_key))
    for session in ({"organiser": 1}, {"organiser_login": "made-up"}):
        data = base64.b64encode(json.dumps(session).encode())
        orga.cookies.set("eclair_organiser", signer.sign(data).decode())
        r = orga.get("/organiser", follow_redirects=False)
        assert r.status_code == 303, session


def test_a_new_password_ends_the_logins_opened_with_the_old_one(orga):
    assert log_in(orga).status_code == 303
    orga.portal.call(q.upsert_organiser, orga.app.state.db, "orga",
                     security.hash_password("a new password"))
    assert orga.get("/organiser", follow_redirects=False).status_code == 303


def test_passwords_are_argon2id_and_old_scrypt_hashes_are_replaced(orga):
    stored = security.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert security.check_password(PASSWORD, stored)
    assert not security.check_password("wrong", stored)
    assert not security.needs_rehash(stored)
    # A hash as the earlier versions wrote it: scrypt, n = 2^14, r = 8, p = 1.
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"old password", salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()
    db = orga.app.state.db
    orga.portal.call(q.upsert_organiser, db, "veteran", old)
    assert security.check_password("old password", old) and security.needs_rehash(old)
    assert log_in(orga, "veteran", "wrong").status_code == 401
    assert orga.portal.call(q.get_organiser_hash, db, "veteran")[1] == old  # not yet
    assert log_in(orga, "veteran", "old password").status_code == 303
    new = orga.portal.call(q.get_organiser_hash, db, "veteran")[1]
    assert new.startswith("$argon2id$") and security.check_password("old password", new)
    token = csrf_of(orga.get("/organiser").text)
    orga.post("/organiser/logout", data={"csrf": token})
    assert log_in(orga, "veteran", "old password").status_code == 303  # with the new hash


def test_the_throttle_forgets_after_its_window_and_holds_a_bounded_memory():
    now = [1000.0]
    throttle = security.LoginThrottle(per_address=3, per_name=2, window=60, pause=1,
                                      max_pause=4, max_keys=50, clock=lambda: now[0])
    for _ in range(3):
        throttle.attempt("a", "orga")
    assert throttle.address_wait("a") == 60 and throttle.address_wait("b") == 0
    assert throttle.name_pause("orga") == 1
    throttle.attempt("b", "orga")
    throttle.attempt("c", "orga")
    assert throttle.name_pause("orga") == 4  # 1, 2, 4: doubled, then capped
    mark = throttle.attempt("d", "orga")
    throttle.succeeded("d", "orga", mark)  # a success is not counted as a failure
    assert throttle.address_wait("d") == 0 and throttle.name_pause("orga") == 4
    now[0] += 61
    assert throttle.address_wait("a") == 0 and throttle.name_pause("orga") == 0
    for i in range(500):
        throttle.attempt(f"address {i}", f"name {i}")
    assert len(throttle._addresses) <= 50 and len(throttle._names) <= 50


def test_addresses_in_one_ipv6_64_share_their_failures():
    """Rotating addresses inside one /64 (one home, one phone) gave fresh budgets."""
    throttle = security.LoginThrottle(per_address=3, per_name=1000, pause=0, max_pause=0)
    for i in range(3):
        throttle.attempt(f"2001:db8:1:2::{i + 1}", f"name{i}")
    assert throttle.address_wait("2001:db8:1:2:ffff::9") > 0
    assert throttle.address_wait("2001:db8:1:3::1") == 0  # another /64: another client

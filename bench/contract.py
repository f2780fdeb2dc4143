"""EVERY ASSUMPTION THE BENCHMARK MAKES ABOUT THE APP'S API IS IN THIS FILE.

When the JSON API, the projector fragment or the phones' WebSocket messages change,
adapt this module only: the rest of bench/ calls these functions. bench/bare.py
implements the same shapes.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


JSON = {"Content-Type": "application/json"}

# Joining: POST /api/sessions/join {"code": CODE} -> 201 {"token": ...}
JOIN_PATH = "/api/sessions/join"
JOIN_CREATED = 201


def join_body(code: str) -> bytes:
    return json.dumps({"code": code}).encode()


def join_token(body: Any) -> str:
    return str(body["token"])


# The facilitator (Authorization: Bearer <facilitator token>).
def step_path(code: str) -> str:
    return f"/api/sessions/{code}/step"


STEP_NEXT = json.dumps({"move": "next"}).encode()


def state_path(code: str) -> str:
    return f"/api/sessions/{code}/state"


def open_path(code: str, question_id: int) -> str:
    return f"/api/sessions/{code}/questions/{question_id}/open"


def results_path(code: str, question_id: int) -> str:
    return f"/api/sessions/{code}/questions/{question_id}/results"


@dataclass(frozen=True)
class Poll:
    question_id: int
    choices: tuple[int, ...]


def first_question(state: Any) -> Poll:
    """The question the benchmark answers: the first of the state's `questions`."""
    question = state["questions"][0]
    return Poll(int(question["id"]), tuple(int(c["id"]) for c in question["choices"]))


@dataclass(frozen=True)
class Tally:
    n: int
    counts: dict[int, int]  # choice id -> respondents who chose it


def tally(results: Any) -> Tally:
    """GET results -> {"n": respondents, "choices": [{"id": ..., "count": ...}, ...]}."""
    return Tally(int(results["n"]), {int(c["id"]): int(c["count"]) for c in results["choices"]})


# A participant's answer: 201 once committed to disk; 503 (with Retry-After) is a fast
# refusal that recorded nothing; any other status recorded nothing either, except 5xx other
# than 503, whose outcome the benchmark treats as unknown.
def answer_path(code: str, question_id: int) -> str:
    return f"/api/sessions/{code}/questions/{question_id}/answers"


ANSWER_CREATED = 201
REFUSED = 503
IDEMPOTENCY_HEADER = "Idempotency-Key"


def retry_after(headers: dict[str, str]) -> float:
    """Seconds to wait after a 503, from Retry-After (kept within 0.05..2 s; 0.5 if absent)."""
    try:
        return min(max(float(headers.get("retry-after", "0.5")), 0.05), 2.0)
    except ValueError:
        return 0.5


def answer_body(choice: int) -> bytes:
    return json.dumps({"choices": [choice]}).encode()


# The projector: ws://HOST/screen/<screen token>/ws sends HTML fragments; the chart's
# caption says "n = 1 234" (digits possibly grouped by a space, a narrow no-break space,
# a no-break space, a comma or a dot).
def screen_ws_path(screen_token: str) -> str:
    return f"/screen/{screen_token}/ws"


_N_CAPTION = re.compile(r'class="n"[^>]*>\s*n\s*=\s*(\d[\d\u202f\u00a0\u2009 ,.]*)')
_N_ANY = re.compile(r"\bn\s*=\s*(\d[\d\u202f\u00a0\u2009 ,.]*)")


def shown_n(fragment: str) -> int | None:
    """The respondent count a projector fragment shows, or None if it shows none."""
    found = _N_CAPTION.search(fragment) or _N_ANY.search(fragment)
    if found is None:
        return None
    digits = re.sub(r"\D", "", found.group(1))
    return int(digits) if digits else None


# Phones: ws://HOST/s/<CODE>/ws with the cookie eclair_p_<CODE>=<participant token> (the
# API join token works as the phone's cookie); no Origin header (allowed: not a browser).
def phone_ws_path(code: str) -> str:
    return f"/s/{code}/ws"


def phone_cookie(code: str, token: str) -> dict[str, str]:
    return {"Cookie": f"eclair_p_{code}={token}"}


PANEL_MARK = 'id="panel"'  # the new design: the panel itself is in the message
_HX_GET = re.compile(r'hx-get="([^"]+)"')  # today: a "sync" fragment, the phone fetches
HX_REQUEST = {"HX-Request": "true"}


def phone_update(message: str) -> tuple[str, str]:
    """What a phone does with a WebSocket message: ("panel", "") if the panel is in it,
    ("fetch", url) if it must GET its panel, ("other", "") otherwise."""
    if PANEL_MARK in message:
        return "panel", ""
    found = _HX_GET.search(message)
    if found:
        return "fetch", html.unescape(found.group(1))
    return "other", ""

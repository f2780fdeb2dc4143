"""The JSON API for integrations and load tests, described at /api/openapi.json."""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from facilitation import actions, codes, i18n, openapi, security
from facilitation.i18n_keys import N_, UserError
from facilitation.limits import NETWORK_PROPOSALS, RateLimited, client_of
from facilitation.memory import SeanceMemory
from facilitation.polls import Question, raw_from_json
from facilitation.proposals import clean_text
from facilitation.seances import MAX_NAME, Participant, State
from facilitation.tallies import ChoiceResults, MatrixResults, RankingResults, Results
from facilitation.text import clean_tree
from facilitation.views.common import db_of, memory_of, services
from facilitation.voting import VoteSettings
from facilitation.web import language_of

MAX_JSON = 16 * 1024


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **params: object) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.params = params


def error_response(request: Request, error: ApiError) -> JSONResponse:
    tr = i18n.Translator(language_of(request))
    return JSONResponse(
        {"error": {"code": error.code, "message": tr.gettext(error.message, **error.params)}},
        status_code=error.status,
    )


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # noqa: S101
    return error_response(request, exc)


MAX_DEPTH = 8  # no request of this API nests deeper than 3


def _depth(data: object) -> int:
    """How deeply lists and objects nest, counted without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            children = value.values() if isinstance(value, dict) else value
            stack += [(child, depth + 1) for child in children]
    return deepest


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_JSON:
        raise ApiError(413, "too_large", N_("The request is too large."))
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "bad_json", N_("The request body is not valid JSON.")) from None
    if _depth(data) > MAX_DEPTH:
        raise ApiError(400, "bad_json", N_("The request body is nested too deeply."))
    if not isinstance(data, dict):
        raise ApiError(422, "bad_body", N_("The request body must be a JSON object."))
    cleaned: dict[str, Any] = clean_tree(data)
    return cleaned


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > 128:
        raise ApiError(401, "unauthorized", N_("A token is needed (Authorization: Bearer …)."))
    return token.strip()


async def _seance(request: Request) -> SeanceMemory:
    code = codes.normalize_code(str(request.path_params["code"]))
    memory = await memory_of(request).by_code(code) if code else None
    if memory is None:
        raise ApiError(404, "unknown_session", N_("No séance has this code."))
    return memory


def _participant(request: Request, memory: SeanceMemory) -> Participant:
    participant = memory.participant(security.hash_token(bearer(request)))
    if participant is None:
        raise ApiError(403, "forbidden", N_("This token does not give access to this séance."))
    return participant


def _is_facilitator(request: Request, memory: SeanceMemory) -> bool:
    token = memory.structure.links.get("facilitator")
    return token is not None and hmac.compare_digest(token, bearer(request))


def _facilitator(request: Request, memory: SeanceMemory) -> None:
    if not _is_facilitator(request, memory):
        raise ApiError(403, "forbidden", N_("This token does not give access to this séance."))


def _participant_or_facilitator(request: Request, memory: SeanceMemory) -> None:
    if _is_facilitator(request, memory):
        return
    _participant(request, memory)


def _question(request: Request, memory: SeanceMemory) -> Question:
    raw = str(request.path_params["question_id"])
    question = memory.question(int(raw)) if raw.isdecimal() and len(raw) < 12 else None
    if question is None:
        raise ApiError(404, "unknown_question", N_("This séance has no such question."))
    return question


def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header: a retry with the same key is counted once."""
    key = request.headers.get("idempotency-key", "")
    if not key:
        return None
    if len(key) > 64 or not key.isascii():
        raise ApiError(422, "bad_idempotency_key",
                       N_("“Idempotency-Key” has at most 64 plain characters."))
    return key


def question_json(question: Question) -> dict[str, Any]:
    settings = question.settings
    data: dict[str, Any] = {
        "id": question.id, "kind": question.kind, "text": question.text, "state": question.state,
        "results": settings.results, "allow_change": settings.allow_change,
        "choices": [{"id": c.id, "label": c.label} for c in question.choices],
    }
    if question.kind in ("single", "multiple"):
        data["max_choices"] = question.limit
    elif question.kind == "matrix":
        data["levels"] = list(settings.levels)
    elif question.kind == "scale":
        data.update(min=settings.scale_min, max=settings.scale_max,
                    labels=[settings.low_label, settings.high_label])
    return data


def state_json(state: State) -> dict[str, Any]:
    step = state.step
    return {
        "code": state.seance.code, "title": state.seance.title,
        "step": None if step is None else {
            "position": step.position, "kind": step.kind, "title": step.title,
            "prompt": step.prompt,
        },
        "steps": len(state.steps),
        "questions": [question_json(question) for question in state.questions],
        "open_questions": [question.id for question in state.open_questions],
    }


def results_json(results: Results) -> dict[str, Any]:
    question = results.question
    data: dict[str, Any] = {"question_id": question.id, "kind": question.kind,
                            "state": question.state, "n": results.n}
    if isinstance(results, ChoiceResults):
        key = "values" if question.kind == "scale" else "choices"
        data[key] = [{"id": bar.choice.id, "label": bar.choice.label, "count": bar.count,
                      "percent": round(bar.percent, 1)} for bar in results.bars]
        if question.kind == "scale":
            data.update(mean=results.mean, median=results.median)
    elif isinstance(results, MatrixResults):
        data["levels"] = list(question.settings.levels)
        data["items"] = [{"id": row.item.id, "label": row.item.label, "n": row.n,
                          "counts": list(row.counts),
                          "percents": [round(p, 1) for p in row.percents]}
                         for row in results.rows]
    elif isinstance(results, RankingResults):
        data["method"] = "borda"
        data["choices"] = [{"id": row.choice.id, "label": row.choice.label,
                            "points": row.points, "mean_rank": round(row.mean_rank, 2)}
                           for row in results.rows]
    else:
        data["words"] = [{"word": g.word, "forms": list(g.forms), "count": g.count}
                         for g in results.visible]
    return data


# Operations -------------------------------------------------------------------------


async def openapi_document(request: Request) -> Response:
    return JSONResponse(openapi.document(request.app.state.settings.public_url))


async def healthz(request: Request) -> Response:
    await db_of(request).fetchone("SELECT 1")
    return JSONResponse({"status": "ok"})


async def join_session(request: Request) -> Response:
    body = await json_body(request)
    raw_code, name = body.get("code"), body.get("name", "")
    language = body.get("language", i18n.DEFAULT)
    if not isinstance(raw_code, str):
        raise ApiError(422, "bad_code", N_("“code” must be the séance's code, as text."))
    if not isinstance(name, str) or len(" ".join(name.split())) > MAX_NAME:
        raise ApiError(422, "bad_name", N_("A first name has at most %(limit)s characters."),
                       limit=MAX_NAME)
    if language not in i18n.LANGUAGES:
        raise ApiError(422, "bad_language", N_("Choose a language from the list."))
    code = codes.normalize_code(raw_code[:40])
    memory = await memory_of(request).by_code(code) if code else None
    if memory is None:
        raise ApiError(404, "unknown_session", N_("No séance has this code."))
    person, token = await actions.join(services(request), memory, name=name, language=language,
                                       client=client_of(request))
    return JSONResponse({"token": token, "participant_id": person.id,
                         "session": {"code": memory.seance.code, "title": memory.seance.title}},
                        201)


async def get_session_state(request: Request) -> Response:
    memory = await _seance(request)
    _participant_or_facilitator(request, memory)
    state = memory.state()
    data = state_json(state)
    presence = memory.presence()
    data["presence"] = {"total": presence.total, "joined": presence.joined,
                        "headcount": presence.headcount, "by_channel": presence.by_channel}
    if state.step is not None and state.step.kind == "vote":
        settings = VoteSettings.from_json(state.step.settings)
        items = memory.structure.vote_items.get(state.step.id, [])
        data["vote"] = {"method": settings.method, "open": settings.open,
                        "points": settings.points, "max_per_item": settings.max_per_item,
                        "items": [{"id": i.id, "kind": i.kind, "text": i.text} for i in items]}
    return JSONResponse(data)


async def submit_answer(request: Request) -> Response:
    memory = await _seance(request)
    participant = _participant(request, memory)
    question = _question(request, memory)
    key = idempotency_key(request)
    body = await json_body(request)
    raw = body.get("choices")
    if question.kind in ("single", "multiple", "ranking") and (
        not isinstance(raw, list)
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in raw)
    ):
        raise ApiError(422, "bad_choices", N_("“choices” must be a list of choice ids."))
    value = body.get("value")
    if question.kind == "scale" and (not isinstance(value, int) or isinstance(value, bool)):
        raise ApiError(422, "bad_value", N_("“value” must be a whole number on the scale."))
    try:
        value = await actions.submit_answer(services(request), memory, participant,
                                            question.id, raw_from_json(body), key=key,
                                            client=client_of(request))
    except RateLimited:
        raise  # 429 with Retry-After, like every refusal for going too fast
    except UserError as error:
        code = ("already_answered" if error.message == actions.ALREADY else
                "session_closed" if error.message == actions.CLOSED_SEANCE else
                "question_closed" if error.status == 409 else "invalid_answer")
        raise ApiError(error.status, code, error.message, **error.params) from None
    return JSONResponse({"question_id": question.id, "answer": value}, 201)


async def submit_proposal(request: Request) -> Response:
    memory = await _seance(request)
    participant = _participant(request, memory)
    key = idempotency_key(request)
    body = await json_body(request)
    try:
        proposal_id = await actions.submit_proposal(
            services(request), memory, body.get("text"), participant=participant,
            channel="phone", key=key, client=client_of(request))
    except RateLimited:
        raise
    except UserError as error:
        code = ("session_closed" if error.message == actions.CLOSED_SEANCE else
                "network_limit" if error.message == NETWORK_PROPOSALS else
                "proposals_closed" if error.status == 409 else "invalid_proposal")
        raise ApiError(error.status, code, error.message, **error.params) from None
    return JSONResponse({"id": proposal_id, "text": clean_text(body.get("text"))}, 201)


async def get_results(request: Request) -> Response:
    memory = await _seance(request)
    facilitator = _is_facilitator(request, memory)
    if not facilitator:
        _participant(request, memory)
    question = _question(request, memory)
    results = memory.results(question)
    if not facilitator and not question.results_visible:
        # Shown to the room only once closed: participants learn n, not the figures.
        return JSONResponse({"question_id": question.id, "kind": question.kind,
                             "state": question.state, "n": results.n, "hidden": True})
    data = results_json(results)
    data["channels"] = memory.channels(question.id)
    return JSONResponse(data)


async def _set_question(request: Request, state: str) -> Response:
    memory = await _seance(request)
    _facilitator(request, memory)
    question = _question(request, memory)
    try:
        await actions.set_question_state(services(request), memory, question.id, state)
    except UserError as error:
        raise ApiError(error.status, "session_closed", error.message) from None
    updated = (await _seance(request)).question(question.id)
    assert updated is not None  # noqa: S101
    return JSONResponse(question_json(updated))


async def open_question(request: Request) -> Response:
    return await _set_question(request, "open")


async def close_question(request: Request) -> Response:
    return await _set_question(request, "closed")


async def go_to_step(request: Request) -> Response:
    memory = await _seance(request)
    _facilitator(request, memory)
    body = await json_body(request)
    position, move = body.get("position"), body.get("move")
    # A field sent is a field read: a bad one is refused, never passed over for the other.
    target: int | None = None
    if isinstance(position, int) and not isinstance(position, bool) and 0 <= position < 10_000:
        target = position
    elif "position" not in body and move in ("next", "previous"):
        target = actions.step_target(memory.seance.current_step, str(move))
    if target is None or ("move" in body and move not in ("next", "previous")):
        raise ApiError(422, "bad_step",
                       N_("Give “position” (a step number) or “move”: next or previous."))
    try:
        await actions.go_to_step(services(request), memory, target)
    except UserError as error:
        raise ApiError(error.status, "session_closed", error.message) from None
    return JSONResponse(state_json((await _seance(request)).state()))


def not_found_json(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        error = ApiError(404, "not_found", N_("Not found."))
    elif status == 405:
        error = ApiError(405, "method_not_allowed",
                         N_("This address does not take this method."))
    elif status < 500:
        error = ApiError(status, "bad_request", N_("This request could not be done."))
    else:
        error = ApiError(status, "error", N_("Something went wrong on our side."))
    response = error_response(request, error)
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)  # Allow on a 405
    return response



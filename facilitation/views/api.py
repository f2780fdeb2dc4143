"""The JSON API for integrations and load tests, described at /api/openapi.json."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from facilitation import codes, i18n, openapi, security
from facilitation.i18n_keys import N_
from facilitation.polls import AnswerError, Question, raw_from_json, validate_answer
from facilitation.proposals import ProposalError, StepSettings, clean_text
from facilitation.seances import MAX_NAME, Participant, Seance, State, clean_name
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.tallies import ChoiceResults, MatrixResults, RankingResults, Results
from facilitation.views.common import broadcaster, db_of
from facilitation.views.facilitator import target_step
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


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_JSON:
        raise ApiError(413, "too_large", N_("The request is too large."))
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", N_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(422, "bad_body", N_("The request body must be a JSON object."))
    return data


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > 128:
        raise ApiError(401, "unauthorized", N_("A token is needed (Authorization: Bearer …)."))
    return token.strip()


async def _seance(request: Request) -> Seance:
    code = codes.normalize_code(str(request.path_params["code"]))
    seance = await q.get_session_by_code(db_of(request), code) if code else None
    if seance is None:
        raise ApiError(404, "unknown_session", N_("No séance has this code."))
    return seance


async def _participant(request: Request, seance: Seance) -> Participant:
    participant = await q.get_participant(db_of(request), security.hash_token(bearer(request)))
    if participant is None or participant.session_id != seance.id:
        raise ApiError(403, "forbidden", N_("This token does not give access to this séance."))
    return participant


async def _is_facilitator(request: Request, seance: Seance) -> bool:
    link = await q.get_link(db_of(request), bearer(request))
    return link is not None and link == (seance.id, "facilitator")


async def _facilitator(request: Request, seance: Seance) -> None:
    if not await _is_facilitator(request, seance):
        raise ApiError(403, "forbidden", N_("This token does not give access to this séance."))


async def _participant_or_facilitator(request: Request, seance: Seance) -> None:
    if await _is_facilitator(request, seance):
        return
    await _participant(request, seance)


async def _question(request: Request, seance: Seance) -> Question:
    raw = str(request.path_params["question_id"])
    question = (await q.get_question(db_of(request), int(raw), seance.id)
                if raw.isdigit() and len(raw) < 12 else None)
    if question is None:
        raise ApiError(404, "unknown_question", N_("This séance has no such question."))
    return question


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
    seance = await q.get_session_by_code(db_of(request), code) if code else None
    if seance is None:
        raise ApiError(404, "unknown_session", N_("No séance has this code."))
    token = security.new_token()
    participant_id = await q.add_participant(db_of(request), seance.id,
                                             security.hash_token(token), clean_name(name), language)
    broadcaster(request).answers_changed(seance.id)
    return JSONResponse({"token": token, "participant_id": participant_id,
                         "session": {"code": seance.code, "title": seance.title}}, 201)


async def get_session_state(request: Request) -> Response:
    seance = await _seance(request)
    await _participant_or_facilitator(request, seance)
    state = await q.get_state(db_of(request), seance.id)
    assert state is not None  # noqa: S101
    data = state_json(state)
    presence = await q.presence(db_of(request), seance.id)
    data["presence"] = {"total": presence.total, "joined": presence.joined,
                        "headcount": presence.headcount, "by_channel": presence.by_channel}
    if state.step is not None and state.step.kind == "vote":
        settings = VoteSettings.from_json(state.step.settings)
        items = await qv.vote_items(db_of(request), seance.id, settings)
        data["vote"] = {"method": settings.method, "open": settings.open,
                        "points": settings.points, "max_per_item": settings.max_per_item,
                        "items": [{"id": i.id, "kind": i.kind, "text": i.text} for i in items]}
    return JSONResponse(data)


async def submit_answer(request: Request) -> Response:
    seance = await _seance(request)
    participant = await _participant(request, seance)
    question = await _question(request, seance)
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
        value = validate_answer(question, raw_from_json(body))
        await q.save_answer(db_of(request), question.id, participant.id, value)
    except AnswerError as error:
        code = "question_closed" if error.status == 409 else "invalid_answer"
        raise ApiError(error.status, code, error.message, **error.params) from None
    broadcaster(request).answers_changed(seance.id)
    return JSONResponse({"question_id": question.id, "answer": value}, 201)


async def submit_proposal(request: Request) -> Response:
    seance = await _seance(request)
    participant = await _participant(request, seance)
    body = await json_body(request)
    db = db_of(request)
    state = await q.get_state(db, seance.id)
    assert state is not None  # noqa: S101
    try:
        if state.step is None or state.step.kind != "proposals":
            raise ProposalError(N_("Proposals are closed: yours was not recorded."), 409)
        settings = StepSettings.from_json(state.step.settings)
        text = clean_text(body.get("text"), settings.max_length)
        proposal_id = await qp.add_proposal(
            db, seance.id, state.step.id, text, "phone", participant_id=participant.id,
            subgroup_id=await qp.participant_subgroup(db, participant.id), settings=settings)
    except ProposalError as error:
        code = "proposals_closed" if error.status == 409 else "invalid_proposal"
        raise ApiError(error.status, code, error.message, **error.params) from None
    broadcaster(request).answers_changed(seance.id)
    return JSONResponse({"id": proposal_id, "text": text}, 201)


async def get_results(request: Request) -> Response:
    seance = await _seance(request)
    facilitator = await _is_facilitator(request, seance)
    if not facilitator:
        await _participant(request, seance)
    question = await _question(request, seance)
    results = await q.results(db_of(request), question)
    if not facilitator and not question.results_visible:
        # Shown to the room only once closed: participants learn n, not the figures.
        return JSONResponse({"question_id": question.id, "kind": question.kind,
                             "state": question.state, "n": results.n, "hidden": True})
    data = results_json(results)
    data["channels"] = await q.answer_channels(db_of(request), question.id)
    return JSONResponse(data)


async def _set_question(request: Request, state: str) -> Response:
    seance = await _seance(request)
    await _facilitator(request, seance)
    question = await _question(request, seance)
    await q.set_question_state(db_of(request), seance.id, question.id, state)
    broadcaster(request).state_changed(seance)
    updated = await q.get_question(db_of(request), question.id, seance.id)
    assert updated is not None  # noqa: S101
    return JSONResponse(question_json(updated))


async def open_question(request: Request) -> Response:
    return await _set_question(request, "open")


async def close_question(request: Request) -> Response:
    return await _set_question(request, "closed")


async def go_to_step(request: Request) -> Response:
    seance = await _seance(request)
    await _facilitator(request, seance)
    body = await json_body(request)
    position, move = body.get("position"), body.get("move")
    if isinstance(position, int) and not isinstance(position, bool) and 0 <= position < 10_000:
        target: int | None = position
    elif move in ("next", "previous"):
        target = target_step(seance.current_step, str(move), "")
    else:
        raise ApiError(422, "bad_step",
                       N_("Give “position” (a step number) or “move”: next or previous."))
    assert target is not None  # noqa: S101
    await q.go_to_step(db_of(request), seance.id, target)
    broadcaster(request).state_changed(seance)
    state = await q.get_state(db_of(request), seance.id)
    assert state is not None  # noqa: S101
    return JSONResponse(state_json(state))


def not_found_json(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return error_response(request, ApiError(status, "not_found" if status == 404 else "error",
                                            N_("Not found.") if status == 404 else
                                            N_("Something went wrong on our side.")))



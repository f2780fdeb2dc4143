"""The OpenAPI 3 description of the JSON API."""

from __future__ import annotations

from typing import Any

from facilitation.i18n import LANGUAGES
from facilitation.polls import KINDS

ERROR = {"$ref": "#/components/schemas/Error"}


def _responses(ok: int, schema: dict[str, Any], *errors: int) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(ok): {"description": "OK", "content": {"application/json": {"schema": schema}}}
    }
    descriptions = {400: "Malformed JSON", 401: "No token", 403: "Token of another role or séance",
                    404: "Unknown séance or question",
                    409: "Question, vote or séance closed",
                    413: "Body too large", 422: "Invalid input",
                    429: "Too fast (this participant or this network): send it again after "
                         "Retry-After"}
    for status in errors:
        responses[str(status)] = {
            "description": descriptions[status],
            "content": {"application/json": {"schema": ERROR}},
        }
    return responses


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


CODE = {"name": "code", "in": "path", "required": True,
        "schema": {"type": "string", "minLength": 4, "maxLength": 6}}
QUESTION = {"name": "question_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1}}
PARTICIPANT: list[dict[str, list[str]]] = [{"participant": []}]
FACILITATOR: list[dict[str, list[str]]] = [{"facilitator": []}]
EITHER: list[dict[str, list[str]]] = [{"participant": []}, {"facilitator": []}]


def document(server_url: str) -> dict[str, Any]:
    state = {"$ref": "#/components/schemas/State"}
    question = {"$ref": "#/components/schemas/Question"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Éclair API",
            "version": "1",
            "description": "Join a séance, read its state, answer its flash poll, read results; "
                           "facilitators open and close questions and move through steps. "
                           "Errors carry a message in the language of Accept-Language.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/healthz": {"get": {
                "operationId": "healthz", "summary": "Liveness",
                "responses": _responses(200, {"type": "object", "properties": {
                    "status": {"type": "string", "enum": ["ok"]}}}),
            }},
            "/api/sessions/join": {"post": {
                "operationId": "join_session", "summary": "Join a séance by its code",
                "requestBody": _body({"type": "object", "required": ["code"], "properties": {
                    "code": {"type": "string", "maxLength": 40},
                    "name": {"type": "string", "maxLength": 40},
                    "language": {"type": "string", "enum": list(LANGUAGES)},
                }}),
                "responses": _responses(201, {"type": "object", "properties": {
                    "token": {"type": "string"}, "participant_id": {"type": "integer"},
                    "session": {"type": "object"}}}, 400, 404, 413, 422, 429),
            }},
            "/api/sessions/{code}/state": {"get": {
                "operationId": "get_session_state", "summary": "Current step and its questions",
                "parameters": [CODE], "security": EITHER,
                "responses": _responses(200, state, 401, 403, 404),
            }},
            "/api/sessions/{code}/step": {"post": {
                "operationId": "go_to_step", "summary": "Move to a step (facilitator)",
                "description": "`position` (a step number, from 0; past the last step, the "
                               "last) or `move` (next or previous); `position` wins when both "
                               "are given.",
                "parameters": [CODE], "security": FACILITATOR,
                "requestBody": _body({
                    "type": "object",
                    "anyOf": [{"required": ["position"]}, {"required": ["move"]}],
                    "properties": {
                        "position": {"type": "integer", "minimum": 0, "maximum": 9999},
                        "move": {"type": "string", "enum": ["next", "previous"]}}}),
                "responses": _responses(200, state, 400, 401, 403, 404, 409, 413, 422),
            }},
            "/api/sessions/{code}/questions/{question_id}/answers": {"post": {
                "operationId": "submit_answer",
                "summary": "Answer a question; 201 once the answer is on disk",
                "description": "By kind: single/multiple `choices` (ids); ranking `choices` "
                               "(every id, best first); scale `value`; text `text`; matrix "
                               "`items` ({item id: level index}, items may be skipped). 409 "
                               "when closed, or when a one-answer question was answered.",
                "parameters": [CODE, QUESTION], "security": PARTICIPANT,
                "requestBody": _body({"type": "object", "minProperties": 1, "properties": {
                    "choices": {"type": "array", "items": {"type": "integer"}},
                    "value": {"type": "integer"},
                    "text": {"type": "string", "maxLength": 120},
                    "items": {"type": "object", "additionalProperties": {"type": "integer"}}}}),
                "responses": _responses(201, {"type": "object", "properties": {
                    "question_id": {"type": "integer"}, "answer": {}}},
                    400, 401, 403, 404, 409, 413, 422, 429),
            }},
            "/api/sessions/{code}/proposals": {"post": {
                "operationId": "submit_proposal",
                "summary": "Put forward a proposal on the current proposal step",
                "parameters": [CODE], "security": PARTICIPANT,
                "description": "`text`: spaces are collapsed; at most 280 characters, or "
                               "the step's own limit. 409 once the step's limit of proposals "
                               "per person is reached, or off a proposal step.",
                "requestBody": _body({"type": "object", "required": ["text"], "properties": {
                    "text": {"type": "string", "minLength": 1, "maxLength": 280}}}),
                "responses": _responses(201, {"type": "object", "properties": {
                    "id": {"type": "integer"}, "text": {"type": "string"}}},
                    400, 401, 403, 404, 409, 413, 422, 429),
            }},
            "/api/sessions/{code}/votes": {"post": {
                "operationId": "submit_vote",
                "summary": "Vote on the current vote step; 201 once stored",
                "description": "agree/disagree/pass: item_id and value (agree, disagree or "
                               "pass; one item at a time, changeable while open). Dot voting: "
                               "dots {item id: points}, replacing earlier points. Majority "
                               "judgment: grades {item id: 0 (Excellent) … 6 (To reject)} for "
                               "every item. 409 when the vote is closed.",
                "parameters": [CODE], "security": PARTICIPANT,
                "requestBody": _body({
                    "type": "object",
                    "anyOf": [{"required": ["item_id", "value"]}, {"required": ["dots"]},
                              {"required": ["grades"]}],
                    "properties": {
                        "item_id": {"type": "integer"},
                        "value": {"type": "string", "enum": ["agree", "disagree", "pass"]},
                        "dots": {"type": "object",
                                 "additionalProperties": {"type": "integer"}},
                        "grades": {"type": "object",
                                   "additionalProperties": {"type": "integer"}}}}),
                "responses": _responses(201, {"type": "object"}, 400, 401, 403, 404, 409,
                                        413, 422, 429),
            }},
            "/api/sessions/{code}/questions/{question_id}/results": {"get": {
                "operationId": "get_results", "summary": "Results with n = respondents",
                "description": "Shape by kind: choices (single, multiple), values with mean and "
                               "median (scale), items with counts per level (matrix), words "
                               "(text), choices with Borda points (ranking). Participants get "
                               "only n and hidden=true while results are kept for the close.",
                "parameters": [CODE, QUESTION], "security": EITHER,
                "responses": _responses(200, {"$ref": "#/components/schemas/Results"},
                                        401, 403, 404),
            }},
            "/api/sessions/{code}/questions/{question_id}/open": {"post": {
                "operationId": "open_question", "summary": "Open a question (facilitator)",
                "parameters": [CODE, QUESTION], "security": FACILITATOR,
                "responses": _responses(200, question, 401, 403, 404, 409),
            }},
            "/api/sessions/{code}/questions/{question_id}/close": {"post": {
                "operationId": "close_question", "summary": "Close a question (facilitator)",
                "parameters": [CODE, QUESTION], "security": FACILITATOR,
                "responses": _responses(200, question, 401, 403, 404, 409),
            }},
        },
        "components": {
            "securitySchemes": {
                "participant": {"type": "http", "scheme": "bearer",
                                "description": "The token returned by join_session"},
                "facilitator": {"type": "http", "scheme": "bearer",
                                "description": "The séance's secret facilitator link token"},
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object",
                          "properties": {"code": {"type": "string"},
                                         "message": {"type": "string"}}}}},
                "Choice": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "label": {"type": "string"}}},
                "Question": {"type": "object", "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "results": {"type": "string", "enum": ["live", "closed"]},
                    "allow_change": {"type": "boolean"},
                    "levels": {"type": "array", "items": {"type": "string"}},
                    "min": {"type": "integer"}, "max": {"type": "integer"},
                    "text": {"type": "string"},
                    "state": {"type": "string", "enum": ["draft", "open", "closed"]},
                    "max_choices": {"type": "integer"},
                    "choices": {"type": "array",
                                "items": {"$ref": "#/components/schemas/Choice"}}}},
                "State": {"type": "object", "properties": {
                    "code": {"type": "string"}, "title": {"type": "string"},
                    "step": {"type": "object", "nullable": True},
                    "steps": {"type": "integer"},
                    "questions": {"type": "array", "items": question},
                    "open_questions": {"type": "array", "items": {"type": "integer"}},
                    "presence": {"type": "object", "description": "People present: total "
                                 "(the facilitator's headcount when set, else joined), "
                                 "joined, headcount (null if none), by_channel"},
                    "vote": {"type": "object", "description": "On a vote step: method, "
                             "open, points, max_per_item, items (id, kind, text)"}}},
                "Results": {"type": "object", "properties": {
                    "question_id": {"type": "integer"}, "state": {"type": "string"},
                    "kind": {"type": "string"}, "n": {"type": "integer"},
                    "channels": {"type": "object", "description": "Respondents by channel: "
                                 "phone, paper, aloud, sms", "additionalProperties": {
                                     "type": "integer"}},
                    "hidden": {"type": "boolean"}, "mean": {"type": "number", "nullable": True},
                    "median": {"type": "number", "nullable": True},
                    "items": {"type": "array", "items": {"type": "object"}},
                    "words": {"type": "array", "items": {"type": "object"}},
                    "choices": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "label": {"type": "string"},
                        "count": {"type": "integer"}, "percent": {"type": "number"}}}}}},
            },
        },
    }

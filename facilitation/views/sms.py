"""The inbound-SMS webhook: a gateway posts the sender and the text; we answer in plain text.

Field names of common gateways are accepted (From/Body, from/text, msisdn/text,
sender/message). The gateway proves itself with the shared secret (ECLAIR_SMS_SECRET),
as `?secret=` or an `X-Eclair-Secret` header. Numbers are kept only as keyed hashes.
"""

from __future__ import annotations

import hmac
import sqlite3

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from facilitation import actions, i18n, sms
from facilitation.i18n_keys import N_, UserError
from facilitation.limits import TOO_MANY_TRIES, Limits, RateLimited, client_of
from facilitation.polls import RawAnswer
from facilitation.seances import Seance
from facilitation.store import Database
from facilitation.store import queries as q
from facilitation.text import clean
from facilitation.views.common import db_of, memory_of, services

SENDER_FIELDS = ("From", "from", "msisdn", "sender")
BODY_FIELDS = ("Body", "body", "text", "message")


async def _remember(db: Database, number_hash: str, session_id: int) -> None:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO sms_senders (number_hash, session_id, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (number_hash) DO UPDATE SET session_id = excluded.session_id,"
            " updated_at = excluded.updated_at", (number_hash, session_id, q.now()))

    await db.write(op)


async def _seance_of(db: Database, number_hash: str, code: str | None) -> Seance:
    if code is not None:
        seance = await q.get_session_by_code(db, code)
        if seance is None:
            raise sms.SmsError(N_("No séance has this code. Check the code shown on the "
                                  "screen."))
        await _remember(db, number_hash, seance.id)
        return seance
    row = await db.fetchone("SELECT session_id FROM sms_senders WHERE number_hash = ?",
                            (number_hash,))
    seance = await q.get_session(db, int(row["session_id"])) if row else None
    if seance is None:
        raise sms.SmsError(N_("Send the code shown on the screen, then your answer. "
                              "Example: ABCD 2"))
    return seance


async def inbound(request: Request) -> Response:
    settings = request.app.state.settings
    if not settings.sms_secret:
        raise HTTPException(404)
    sent = request.query_params.get("secret") or request.headers.get("x-eclair-secret", "")
    limits: Limits = request.app.state.limits
    client = client_of(request)
    wait = limits.sms_secret_wait(client)
    if wait:  # wrong secrets tried over and over: slowed down, whatever is sent now
        refusal = RateLimited(TOO_MANY_TRIES, TOO_MANY_TRIES, wait)
        return PlainTextResponse("too many tries", status_code=429,
                                 headers={"retry-after": str(refusal.retry_after)})
    if not hmac.compare_digest(sent.encode(), settings.sms_secret.encode()):
        limits.sms_secret_failed(client)
        return PlainTextResponse("forbidden", status_code=403)
    form = await request.form(max_files=0, max_fields=30, max_part_size=4096)
    number = clean(next((str(form[f]) for f in SENDER_FIELDS if form.get(f)), ""))[:40]
    body = clean(next((str(form[f]) for f in BODY_FIELDS if form.get(f)), ""))[:320]
    if not number:
        return PlainTextResponse("missing sender", status_code=422)
    db = db_of(request)
    key = sms.number_hash(request.app.state.phone_key, number)
    tr = i18n.Translator(i18n.DEFAULT)
    try:
        message = sms.parse(body)
        seance = await _seance_of(db, key, message.code)
        if seance.language in i18n.LANGUAGES:
            tr = i18n.Translator(seance.language)
        memory = await memory_of(request).get(seance.id)
        if memory is None:
            raise sms.SmsError(N_("No séance has this code. Check the code shown on the "
                                  "screen."))
        state = memory.state()
        if not state.open_questions:
            raise sms.SmsError(N_("No question is open right now. Try again when the "
                                  "facilitator opens one."), 409)
        question = state.open_questions[0]
        if not message.answer:
            raise sms.SmsError(N_("You are registered. Send your answer when a question "
                                  "is open."), 200)
        parsed = sms.choices_of(question, message.answer)
        raw = RawAnswer(value=parsed) if isinstance(parsed, int) else RawAnswer(choices=parsed)
        token_hash = sms.number_hash(request.app.state.phone_key, f"{seance.id}:{number}")
        await actions.answer_by_sms(services(request), memory, token_hash, question, raw,
                                    client=client)
    except RateLimited as error:
        return PlainTextResponse(tr.gettext(error.message, **error.params), status_code=429,
                                 headers={"retry-after": str(error.retry_after)})
    except UserError as error:
        reply = tr.gettext(error.message, **error.params)
        return PlainTextResponse(reply, status_code=200 if error.status == 200 else 422)
    return PlainTextResponse(tr.gettext("Thank you, your answer is recorded."))

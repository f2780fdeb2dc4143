"""Who may use each route: the declared rules the authorisation matrix checks.

Every route of facilitation/routes.py must appear in RULES: tests/test_authz.py fails on a
route without a rule (and on a rule whose route is gone). The actors are those of
tests/actors.py. "This séance" is séance A; the route's path is filled with A's ids.

- participant: joined séance A (its cookie; its token as the API's bearer).
- participant_elsewhere: joined séance B of the same démarche.
- helper, projector, facilitator: A's current secret links (and as the API's bearer).
- facilitator_elsewhere: B's facilitator link, with A's ids in the path: moderating A's
  proposal with it must be refused. On a route that names nothing but the link, that link
  opens B's own page, which is right: FACILITATOR_LINK.
- organiser: logged in.
- revoked: A's links before the organiser replaced them.
- sms_gateway: the SMS gateway's shared secret.
- anonymous: nothing at all.

Each actor presents every credential it holds on every request, and puts its own link (or
a made-up one) wherever a route takes one.
"""

from __future__ import annotations

ACTORS = ("anonymous", "participant", "participant_elsewhere", "helper", "projector",
          "facilitator", "facilitator_elsewhere", "organiser", "revoked", "sms_gateway")

EVERYONE = frozenset(ACTORS)
PARTICIPANT = frozenset({"participant"})
FACILITATOR = frozenset({"facilitator"})
FACILITATOR_LINK = frozenset({"facilitator", "facilitator_elsewhere"})
PROJECTOR = frozenset({"projector"})
HELPER = frozenset({"helper"})
ORGANISER = frozenset({"organiser"})
PARTICIPANT_OR_FACILITATOR = PARTICIPANT | FACILITATOR
SMS_GATEWAY = frozenset({"sms_gateway"})

RULES: dict[str, frozenset[str]] = {
    # Participant pages: anyone may join; the séance's own pages need having joined it.
    "participant:home": EVERYONE,
    "participant:join": EVERYONE,
    "participant:show": PARTICIPANT,
    "participant:answer": PARTICIPANT,
    "participant:propose": PARTICIPANT,
    "participant:vote": PARTICIPANT,
    "participant:ws": PARTICIPANT,
    "participant:prefs": EVERYONE,
    "participant:accessibility": EVERYONE,
    "participant:privacy": EVERYONE,
    "participant:delete": PARTICIPANT,
    # Facilitator: the secret link. Routes naming one of A's questions, proposals,
    # themes, suggestions or steps take A's link only.
    "facilitator:show": FACILITATOR_LINK,
    "facilitator:step": FACILITATOR_LINK,
    "facilitator:walk": FACILITATOR_LINK,
    "facilitator:timer": FACILITATOR_LINK,
    "facilitator:headcount": FACILITATOR_LINK,
    "facilitator:results": FACILITATOR,
    "facilitator:phones": FACILITATOR,
    "facilitator:words": FACILITATOR,
    "facilitator:question": FACILITATOR,
    "facilitator:ws": FACILITATOR_LINK,
    "facilitator:propose": FACILITATOR_LINK,
    "facilitator:moderate": FACILITATOR,
    "facilitator:wall": FACILITATOR_LINK,
    "facilitator:vote": FACILITATOR_LINK,
    "facilitator:vote_state": FACILITATOR_LINK,
    "facilitator:close": FACILITATOR_LINK,
    "facilitator:report": FACILITATOR_LINK,
    "facilitator:report_edit": FACILITATOR_LINK,
    "facilitator:kit": FACILITATOR_LINK,
    "facilitator:vote_cards": FACILITATOR,
    "facilitator:cards": FACILITATOR_LINK,
    "facilitator:resolve_card": FACILITATOR_LINK,
    "facilitator:report_download": FACILITATOR_LINK,
    "facilitator:themes": FACILITATOR_LINK,
    "facilitator:theme": FACILITATOR,
    "facilitator:suggest": FACILITATOR_LINK,
    "facilitator:suggestion": FACILITATOR,
    # The participants it names are looked up in the link's own séance only.
    "facilitator:exclude": FACILITATOR_LINK,
    # Projector and helper: their own secret links.
    "screen:show": PROJECTOR,
    "screen:step": PROJECTOR,
    "screen:ws": PROJECTOR,
    "helper:show": HELPER,
    "helper:card": HELPER,
    "helper:answer": HELPER,
    "helper:propose": HELPER,
    "helper:vote": HELPER,
    "helper:back": HELPER,
    "helper:ws": HELPER,
    # Organiser: logged in. Logging in and out is open to anyone.
    "organiser:login": EVERYONE,
    "organiser:logout": EVERYONE,
    "organiser:home": ORGANISER,
    "organiser:create_workshop": ORGANISER,
    "organiser:import": ORGANISER,
    "organiser:workshop": ORGANISER,
    "organiser:synthesis": ORGANISER,
    "organiser:synthesis_decide": ORGANISER,
    "organiser:synthesis_download": ORGANISER,
    "organiser:create_session": ORGANISER,
    "organiser:add_question": ORGANISER,
    "organiser:editor": ORGANISER,
    "organiser:edit_details": ORGANISER,
    "organiser:edit_tables": ORGANISER,
    "organiser:add_step": ORGANISER,
    "organiser:edit_step": ORGANISER,
    "organiser:step_action": ORGANISER,
    "organiser:editor_add_question": ORGANISER,
    "organiser:edit_question": ORGANISER,
    "organiser:question_action": ORGANISER,
    "organiser:reopen": ORGANISER,
    "organiser:report": ORGANISER,
    "organiser:report_edit": ORGANISER,
    "organiser:kit": ORGANISER,
    "organiser:vote_cards": ORGANISER,
    "organiser:report_download": ORGANISER,
    "organiser:consensus": ORGANISER,
    "organiser:rotate_link": ORGANISER,
    "organiser:retention": ORGANISER,
    "organiser:delete_workshop": ORGANISER,
    "organiser:delete_session": ORGANISER,
    "organiser:audit": ORGANISER,
    # JSON API: a bearer token, a participant's or the facilitator link's.
    "api:healthz": EVERYONE,
    "api:openapi": EVERYONE,
    "api:join_session": EVERYONE,
    "api:get_session_state": PARTICIPANT_OR_FACILITATOR,
    "api:submit_proposal": PARTICIPANT,
    "api:submit_vote": PARTICIPANT,
    "api:go_to_step": FACILITATOR,
    "api:submit_answer": PARTICIPANT,
    "api:get_results": PARTICIPANT_OR_FACILITATOR,
    "api:open_question": FACILITATOR,
    "api:close_question": FACILITATOR,
    "sms:inbound": SMS_GATEWAY,
    "static": EVERYONE,
}

# What the matrix sends beyond the actor's credentials and A's ids: path parameters that
# are not ids, query strings and form fields, "{name}" taken from the world's ids. Empty
# forms otherwise: a 422 for a form with nothing in it has passed authorisation.
PATH: dict[str, dict[str, str]] = {
    "facilitator:question": {"action": "open"},
    "facilitator:moderate": {"action": "pin"},
    "facilitator:vote_state": {"action": "close"},
    "facilitator:theme": {"action": "up"},
    "facilitator:suggestion": {"action": "reject"},
    "facilitator:report_download": {"fmt": "md"},
    "helper:back": {"form": "card"},
    "organiser:synthesis_download": {"fmt": "md"},
    "organiser:step_action": {"action": "down"},
    "organiser:question_action": {"action": "down"},
    "organiser:report_download": {"fmt": "md"},
    "organiser:rotate_link": {"role": "helper"},
    "static": {"path": "css/eclair.css"},
}
QUERY: dict[str, str] = {
    "facilitator:kit": "cards=1",
    "organiser:kit": "cards=1",
    "facilitator:vote_cards": "step={vote_step_id}&cards=1",
    "organiser:vote_cards": "step={vote_step_id}&cards=1",
}
FORM: dict[str, dict[str, str]] = {
    # Anyone may try to log in; with the right password it works for anyone.
    "organiser:login": {"username": "{username}", "password": "{password}"},
    # Forms checked before the ids they name: complete, so that the id is what decides.
    "facilitator:results": {"mode": "closed"},
    "facilitator:words": {"word": "internet", "hidden": "1"},
    "helper:vote": {"step": "{vote_step_id}"},
}

"""Every route of Éclair, in one list, named "role:page"."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from facilitation.settings import Settings
from facilitation.views import (
    api,
    board,
    facilitator,
    helper,
    organiser,
    participant,
    screen,
    vote,
)

GET, POST = ["GET"], ["POST"]


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        # Participant: no account, no JavaScript needed.
        Route("/", participant.home, methods=["GET", "POST"], name="participant:home"),
        Route("/j/{code}", participant.join, methods=["GET", "POST"], name="participant:join"),
        Route("/s/{code}", participant.show, methods=GET, name="participant:show"),
        Route("/s/{code}/answer", participant.answer, methods=POST, name="participant:answer"),
        Route("/s/{code}/propose", participant.propose, methods=POST,
              name="participant:propose"),
        Route("/s/{code}/vote", participant.cast_vote, methods=POST, name="participant:vote"),
        WebSocketRoute("/s/{code}/ws", participant.ws, name="participant:ws"),
        Route("/prefs", participant.prefs, methods=GET, name="participant:prefs"),
        # Facilitator, projector and helper: secret links.
        Route("/f/{token}", facilitator.show, methods=GET, name="facilitator:show"),
        Route("/f/{token}/step", facilitator.step, methods=POST, name="facilitator:step"),
        Route("/f/{token}/questions/{question_id}/results", facilitator.results_mode,
              methods=POST, name="facilitator:results"),
        Route("/f/{token}/questions/{question_id}/words", facilitator.hide_word, methods=POST,
              name="facilitator:words"),
        Route("/f/{token}/questions/{question_id}/{action:str}", facilitator.question_state,
              methods=POST, name="facilitator:question"),
        WebSocketRoute("/f/{token}/ws", facilitator.ws, name="facilitator:ws"),
        Route("/f/{token}/proposals", board.add, methods=POST, name="facilitator:propose"),
        Route("/f/{token}/proposals/{proposal_id}/{action:str}", board.moderate, methods=POST,
              name="facilitator:moderate"),
        Route("/f/{token}/wall", board.wall_mode, methods=POST, name="facilitator:wall"),
        Route("/f/{token}/vote", vote.configure, methods=POST, name="facilitator:vote"),
        Route("/f/{token}/vote/{action:str}", vote.open_close, methods=POST,
              name="facilitator:vote_state"),
        Route("/f/{token}/close", vote.close_seance, methods=POST, name="facilitator:close"),
        Route("/f/{token}/themes", board.create_theme, methods=POST, name="facilitator:themes"),
        Route("/f/{token}/themes/{theme_id}/{action:str}", board.theme, methods=POST,
              name="facilitator:theme"),
        Route("/f/{token}/suggestions", board.suggest, methods=POST,
              name="facilitator:suggest"),
        Route("/f/{token}/suggestions/{suggestion_id}/{action:str}", board.suggestion,
              methods=POST, name="facilitator:suggestion"),
        Route("/screen/{token}", screen.show, methods=GET, name="screen:show"),
        Route("/screen/{token}/step", screen.step, methods=POST, name="screen:step"),
        WebSocketRoute("/screen/{token}/ws", screen.ws, name="screen:ws"),
        Route("/h/{token}", helper.show, methods=GET, name="helper:show"),
        Route("/h/{token}/answer", helper.answer, methods=POST, name="helper:answer"),
        Route("/h/{token}/propose", helper.propose, methods=POST, name="helper:propose"),
        Route("/h/{token}/vote", vote.helper_vote, methods=POST, name="helper:vote"),
        # Organiser: password.
        Route("/organiser/login", organiser.login, methods=["GET", "POST"],
              name="organiser:login"),
        Route("/organiser/logout", organiser.logout, methods=POST, name="organiser:logout"),
        Route("/organiser", organiser.home, methods=GET, name="organiser:home"),
        Route("/organiser/workshops", organiser.create_workshop, methods=POST,
              name="organiser:create_workshop"),
        Route("/organiser/import", organiser.import_plan, methods=POST, name="organiser:import"),
        Route("/organiser/workshops/{workshop_id}", organiser.workshop, methods=GET,
              name="organiser:workshop"),
        Route("/organiser/workshops/{workshop_id}/sessions", organiser.create_session,
              methods=POST, name="organiser:create_session"),
        Route("/organiser/sessions/{session_id}/questions", organiser.add_question,
              methods=POST, name="organiser:add_question"),
        Route("/organiser/sessions/{session_id}/consensus", vote.set_rule, methods=POST,
              name="organiser:consensus"),
        Route("/organiser/sessions/{session_id}/links/{role}", organiser.rotate_link,
              methods=POST, name="organiser:rotate_link"),
        # JSON API.
        Route("/healthz", api.healthz, methods=GET, name="api:healthz"),
        Route("/api/openapi.json", api.openapi_document, methods=GET, name="api:openapi"),
        Route("/api/sessions/join", api.join_session, methods=POST, name="api:join_session"),
        Route("/api/sessions/{code}/state", api.get_session_state, methods=GET,
              name="api:get_session_state"),
        Route("/api/sessions/{code}/proposals", api.submit_proposal, methods=POST,
              name="api:submit_proposal"),
        Route("/api/sessions/{code}/votes", vote.api_submit_vote, methods=POST,
              name="api:submit_vote"),
        Route("/api/sessions/{code}/step", api.go_to_step, methods=POST, name="api:go_to_step"),
        Route("/api/sessions/{code}/questions/{question_id}/answers", api.submit_answer,
              methods=POST, name="api:submit_answer"),
        Route("/api/sessions/{code}/questions/{question_id}/results", api.get_results,
              methods=GET, name="api:get_results"),
        Route("/api/sessions/{code}/questions/{question_id}/open", api.open_question,
              methods=POST, name="api:open_question"),
        Route("/api/sessions/{code}/questions/{question_id}/close", api.close_question,
              methods=POST, name="api:close_question"),
        Mount("/static", StaticFiles(directory=settings.static_dir), name="static"),
    ]

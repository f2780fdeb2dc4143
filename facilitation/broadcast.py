"""Turns changes in a séance into live fragments: rendered once, sent to every subscriber."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import jinja2

from facilitation import i18n, qr
from facilitation.live import Coalescer, Hub, topic
from facilitation.proposals import Proposal, StepSettings, Theme
from facilitation.seances import Presence, Seance, State
from facilitation.settings import Settings
from facilitation.store import Database
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.store.votes import results_of, synthesis_of
from facilitation.tallies import Results
from facilitation.voting import ConsensusRule, Synthesis, VoteResults, VoteSettings
from facilitation.web import render_string

log = logging.getLogger("eclair.live")


@dataclass(frozen=True)
class Snapshot:
    """Everything the projector and the facilitator show of a séance at one moment."""

    state: State
    presence: Presence
    results: dict[int, Results]
    join_url: str
    short_url: str
    qr_svg: str
    facilitator_token: str  # for the facilitator's live controls; never sent to a screen
    proposals: tuple[Proposal, ...] = ()  # on a proposal or grouping step
    themes: tuple[Theme, ...] = ()
    wall_by_subgroup: bool = False
    vote: VoteResults | None = None  # on a vote step
    vote_settings: VoteSettings | None = None
    synthesis: Synthesis | None = None  # on the synthesis and closing steps
    rule: ConsensusRule | None = None
    next_seance: Seance | None = None
    channels: dict[int, dict[str, int]] | None = None  # respondents by channel, per question
    vote_channels: dict[str, int] | None = None  # voters by channel


def version(state: State) -> str:
    """A fingerprint of what a participant's page depends on: step and open questions."""
    opened = ",".join(str(question.id) for question in state.open_questions)
    return f"{state.seance.current_step}-{opened}"


class Broadcaster:
    def __init__(self, db: Database, hub: Hub, env: jinja2.Environment,
                 settings: Settings, url_for: Callable[..., str]) -> None:
        self.url_for = url_for
        self.db = db
        self.hub = hub
        self.env = env
        self.settings = settings
        self.coalescer: Coalescer[int] = Coalescer(settings.screen_interval, self._refresh)

    async def snapshot(self, session_id: int) -> Snapshot | None:
        state = await q.get_state(self.db, session_id)
        if state is None:
            return None
        results = {question.id: await q.results(self.db, question)
                   for question in state.questions}
        kind = state.step.kind if state.step else ""
        proposals: tuple[Proposal, ...] = ()
        themes: tuple[Theme, ...] = ()
        if kind in ("proposals", "clustering"):
            proposals = tuple(await qp.list_proposals(self.db, session_id))
            themes = tuple(await qp.list_themes(self.db, session_id)) if kind == "clustering" \
                else ()
        join_url = f"{self.settings.public_url}/j/{state.seance.code}"
        vote = settings = summary = rule = None
        vote_channels = None
        if state.step is not None and kind == "vote":
            settings = VoteSettings.from_json(state.step.settings)
            vote = await results_of(self.db, session_id, state.step)
            vote_channels = await qv.voter_channels(self.db, state.step.id)
        if kind in ("vote", "synthesis", "closing"):
            rule = await qv.get_rule(self.db, session_id)
        if kind in ("synthesis", "closing"):
            summary = await synthesis_of(self.db, state)
        return Snapshot(
            vote=vote, vote_settings=settings, synthesis=summary, rule=rule,
            vote_channels=vote_channels,
            channels={question.id: await q.answer_channels(self.db, question.id)
                      for question in state.questions},
            next_seance=await qv.next_seance(self.db, session_id) if kind == "closing" else None,
            state=state,
            presence=await q.presence(self.db, session_id),
            results=results,
            join_url=join_url,
            short_url=self.settings.public_url.split("://", 1)[-1],
            qr_svg=qr.svg(join_url),
            facilitator_token=(await q.active_links(self.db, session_id)).get("facilitator", ""),
            proposals=proposals, themes=themes,
            wall_by_subgroup=kind == "proposals" and state.step is not None
            and StepSettings.from_json(state.step.settings).wall_by_subgroup,
        )

    # What views call --------------------------------------------------------------

    def answers_changed(self, session_id: int) -> None:
        """Results or presence moved: redraw screens and facilitators, coalesced."""
        self.coalescer.request(session_id)

    def state_changed(self, seance: Seance) -> None:
        """Step or question state moved: phones reload their panel, screens redraw."""
        self.hub.publish(topic(seance.id, "participant"), self.sync_fragment(seance))
        self.coalescer.request(seance.id)

    # Fragments --------------------------------------------------------------------

    def sync_fragment(self, seance: Seance) -> str:
        # The same few bytes for every phone: each then fetches its own panel.
        return self.env.get_template("partials/participant_sync.html").render(
            url=self.url_for("participant:show", code=seance.code)
        )

    def screen_fragment(self, snap: Snapshot) -> str:
        tr = i18n.Translator(snap.state.seance.language
                             if snap.state.seance.language in i18n.LANGUAGES else i18n.DEFAULT)
        return render_string(self.env, "partials/screen.html", tr, snap=snap, oob=True,
                             url_for=self.url_for, sms_number=self.settings.sms_number)

    def facilitator_fragment(self, snap: Snapshot, language: str) -> str:
        return render_string(self.env, "partials/facilitator_live.html",
                             i18n.Translator(language), snap=snap, oob=True,
                             url_for=self.url_for)

    async def _refresh(self, session_id: int) -> None:
        try:
            await self._publish_views(session_id)
        except Exception:
            log.exception("live refresh of séance %s failed", session_id)

    async def _publish_views(self, session_id: int) -> None:
        screen_topic = topic(session_id, "screen")
        languages = [lang for lang in i18n.LANGUAGES
                     if self.hub.subscribers(topic(session_id, f"facilitator:{lang}"))]
        if not self.hub.subscribers(screen_topic) and not languages:
            return
        snap = await self.snapshot(session_id)
        if snap is None:
            return
        if self.hub.subscribers(screen_topic):
            self.hub.publish(screen_topic, self.screen_fragment(snap))
        for language in languages:
            self.hub.publish(topic(session_id, f"facilitator:{language}"),
                             self.facilitator_fragment(snap, language))

    async def close(self) -> None:
        await self.coalescer.close()


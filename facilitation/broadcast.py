"""Turns changes in a séance into live fragments: rendered once, sent to every subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import jinja2

from facilitation import i18n, panels, paper, qr
from facilitation.live import Coalescer, Hub, Redraw, topic
from facilitation.memory import Crowd, Memory
from facilitation.proposals import Proposal, StepSettings, Theme
from facilitation.seances import Participant, Presence, Seance, State
from facilitation.settings import Settings
from facilitation.store import Database
from facilitation.store import proposals as qp
from facilitation.store import votes as qv
from facilitation.store.votes import results_of, synthesis_of
from facilitation.tallies import Results
from facilitation.voting import ConsensusRule, Synthesis, VoteResults, VoteSettings
from facilitation.web import render_string

log = logging.getLogger("eclair.live")
PEOPLE_SHOWN = 200  # the facilitator sees the latest who joined; the count says the rest


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
    people: tuple[Participant, ...] = ()  # who joined, the latest first (the facilitator's)
    people_count: int = 0
    excluded: frozenset[int] = frozenset()  # participants the facilitator excluded
    closed: bool = False  # the séance is closed: read-only until the organisation reopens it

    @property
    def board_key(self) -> str:
        """What the facilitator's lower part (moderation, board, vote settings, closing)
        depends on, apart from the proposals that arrive live: redrawn when it changes."""
        vote_open = bool(self.vote_settings and self.vote_settings.open)
        return f"{self.state.seance.current_step}-{int(vote_open)}-{int(self.closed)}"


class Broadcaster:
    def __init__(self, db: Database, memory: Memory, hub: Hub, env: jinja2.Environment,
                 settings: Settings, url_for: Callable[..., str]) -> None:
        self.url_for = url_for
        self.db = db
        self.memory = memory
        self._pushing: dict[int, asyncio.Task[None]] = {}
        self._push_again: set[int] = set()
        self._last_push: dict[int, tuple[str, str]] = {}
        # What phones have been shown, per séance: a page carries it, a reconnecting phone
        # whose page is older is told to catch up. It never repeats (a step count would:
        # forward two steps and back again while a phone was away). Between processes it is
        # the change's place in the order they share, the same in all of them.
        self._boot = secrets.token_hex(3)
        self._changes: Counter[int] = Counter()
        self._shown: dict[int, str] = {}
        self.hub = hub
        self.env = env
        self.settings = settings
        self.coalescer: Coalescer[int] = Coalescer(settings.screen_interval, self._refresh)

    async def snapshot(self, session_id: int) -> Snapshot | None:
        memory = await self.memory.get(session_id)
        if memory is None:
            return None
        state = memory.state()
        results = {question.id: memory.results(question) for question in state.questions}
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
            channels={question.id: memory.channels(question.id)
                      for question in state.questions},
            next_seance=await qv.next_seance(self.db, session_id) if kind == "closing" else None,
            state=state,
            presence=memory.presence(),
            results=results,
            join_url=join_url,
            short_url=self.settings.public_url.split("://", 1)[-1],
            qr_svg=qr.svg(join_url),
            facilitator_token=memory.structure.links.get("facilitator", ""),
            proposals=proposals, themes=themes,
            people=tuple(heapq.nlargest(PEOPLE_SHOWN, memory.crowd.participants.values(),
                                        key=lambda p: p.id)),
            people_count=len(memory.crowd.participants),
            excluded=frozenset(memory.crowd.excluded),
            closed=memory.structure.closed,
            wall_by_subgroup=kind == "proposals" and state.step is not None
            and StepSettings.from_json(state.step.settings).wall_by_subgroup,
        )

    # What views call --------------------------------------------------------------

    def answers_changed(self, session_id: int) -> None:
        """Results or presence moved: redraw screens and facilitators, coalesced."""
        self.hub.send(Redraw(session_id, state=False))

    def state_changed(self, session_id: int) -> None:
        """Step or question state moved: phones get their new panel, screens redraw."""
        self.hub.send(Redraw(session_id, state=True))

    def phone_version(self, session_id: int) -> str:
        """What a phone's page was made from: compared when its WebSocket (re)connects."""
        return self._shown.get(session_id, f"{self._boot}-0")

    # What the relay calls, in every process / in the process that sent the change -------

    def moved(self, session_id: int, seq: int | None) -> None:
        """The séance's step or questions moved: pages made before are out of date."""
        if seq is None:
            self._changes[session_id] += 1
            self._shown[session_id] = f"{self._boot}-{self._changes[session_id]}"
        else:
            self._shown[session_id] = str(seq)

    def forget(self) -> None:
        """Changes may have been missed: every phone page made before is out of date."""
        self._boot = secrets.token_hex(3)
        self._shown.clear()

    def pushed(self, session_id: int, fingerprint: tuple[str, str]) -> None:
        """Another process pushed phones this panel: pushing it again would only clear
        what people are typing."""
        self._last_push[session_id] = fingerprint

    def redraw(self, session_id: int, state: bool) -> None:
        """Draw the séance's live views again, for the subscribers of every process."""
        self.coalescer.request(session_id)
        if not state:
            return
        if session_id in self._pushing:
            self._push_again.add(session_id)  # the push running now may have read too early
            return
        self._pushing[session_id] = asyncio.create_task(self._push_panels(session_id))

    async def _push_panels(self, session_id: int) -> None:
        try:
            while True:
                self._push_again.discard(session_id)
                try:
                    await self._push_once(session_id)
                except Exception:
                    log.exception("panel push of séance %s failed", session_id)
                if session_id not in self._push_again:
                    return
        finally:
            self._pushing.pop(session_id, None)

    async def _push_once(self, session_id: int) -> None:
        participants = topic(session_id, "participant")
        if not self.hub.subscribers(participants):
            self._last_push.pop(session_id, None)
            return
        mark = self.hub.mark()
        memory = await self.memory.get(session_id)
        if memory is None:
            return
        state = memory.state()
        shared = await panels.shared_panel(self.db, memory)
        variants: dict[str, str] = {}
        if shared is not None:
            for language in i18n.LANGUAGES:
                variants[language] = render_string(
                    self.env, "partials/participant_panel.html", i18n.Translator(language),
                    seance=state.seance, state=state, panel=shared, csrf=panels.CSRF_SLOT,
                    closed=memory.structure.closed,
                    idem=panels.KEY_SLOT, url_for=self.url_for)
        # The step's timer is its own fragment: starting one never redraws a panel where
        # someone is typing.
        timers = {language: render_string(
            self.env, "partials/participant_timer.html", i18n.Translator(language),
            step=state.step, oob=True) for language in i18n.LANGUAGES}
        fingerprint = (digest((panels.version(state), *variants.values())),
                       digest(timers.values()))
        last = self._last_push.get(session_id)
        self._last_push[session_id] = fingerprint
        personal = panels.Personal.of(memory)
        if variants and last is not None and last[0] == fingerprint[0]:
            if last[1] != fingerprint[1]:
                self.hub.publish(participants, PanelPush(
                    session_id, {}, "", personal, memory.crowd, timers, timer_only=True,
                    fingerprint=fingerprint), mark)
            return  # nothing else a phone shows has changed: leave what people type alone
        self.hub.publish(participants, PanelPush(
            session_id, variants, self.sync_fragment(state.seance), personal, memory.crowd,
            timers, fingerprint=fingerprint), mark)

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

    def helper_fragment(self, pic: paper.Picture, token: str, language: str) -> str:
        return render_string(self.env, "partials/helper_status.html",
                             i18n.Translator(language), pic=pic, token=token, oob=True,
                             url_for=self.url_for, helper_name=paper.helper_name)

    async def _refresh(self, session_id: int) -> None:
        try:
            await self._publish_views(session_id)
        except Exception:
            log.exception("live refresh of séance %s failed", session_id)

    async def _publish_views(self, session_id: int) -> None:
        screen_topic = topic(session_id, "screen")
        languages = [lang for lang in i18n.LANGUAGES
                     if self.hub.subscribers(topic(session_id, f"facilitator:{lang}"))]
        helpers = [lang for lang in i18n.LANGUAGES
                   if self.hub.subscribers(topic(session_id, f"helper:{lang}"))]
        if self.hub.subscribers(screen_topic) or languages:
            await self._publish_room(session_id, screen_topic, languages)
        # The helpers' picture after the room's screens: it reads the database, they wait
        # for nothing.
        if helpers:
            await self._publish_helpers(session_id, helpers)

    async def _publish_room(self, session_id: int, screen_topic: str,
                            languages: list[str]) -> None:
        mark = self.hub.mark()
        snap = await self.snapshot(session_id)
        if snap is None:
            return
        if self.hub.subscribers(screen_topic):
            self.hub.publish(screen_topic, self.screen_fragment(snap), mark)
        for language in languages:
            self.hub.publish(topic(session_id, f"facilitator:{language}"),
                             self.facilitator_fragment(snap, language), mark)

    async def _publish_helpers(self, session_id: int, languages: list[str]) -> None:
        mark = self.hub.mark()
        memory = await self.memory.get(session_id)
        if memory is None:
            return
        pic = await paper.picture(self.db, memory)
        token = memory.structure.links.get("helper", "")
        for language in languages:
            self.hub.publish(topic(session_id, f"helper:{language}"),
                             self.helper_fragment(pic, token, language), mark)

    async def close(self) -> None:
        await self.coalescer.close()
        for task in list(self._pushing.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def digest(parts: Iterable[str]) -> str:
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class PanelPush:
    """A step change, for phones: the new panel in each language, rendered once; a phone
    whose panel is its own gets the "sync" fragment instead and fetches it.

    Between processes all of it travels but `crowd`: each process checks its phones
    against its own (None: not in memory, every phone fetches its own panel)."""

    session_id: int
    variants: dict[str, str]
    sync: str
    personal: panels.Personal
    crowd: Crowd | None
    timers: dict[str, str] = field(default_factory=dict)  # the step's timer, per language
    timer_only: bool = False  # only the timer changed
    fingerprint: tuple[str, str] = ("", "")  # of the panels and of the timers

    def for_phone(self, participant_id: int, language: str, csrf: str) -> str:
        timer = self.timers.get(language, "")
        if self.timer_only:
            return timer
        html = self.variants.get(language)
        if html is None or self.crowd is None \
                or self.personal.applies(self.crowd, participant_id):
            return self.sync + timer
        return html.replace(panels.CSRF_SLOT, csrf).replace(panels.KEY_SLOT,
                                                            secrets.token_urlsafe(12)) + timer


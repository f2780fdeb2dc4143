"""What a change sets in motion, in this process and in every other one.

A committed write's event and each request to redraw a séance go through the hub
(`Hub.send`); the relay is what the hub hands them to. In one process that is at once.
Between processes (live_redis.py) every process gets every message in one shared order,
its own included, and:

- applies each event to its own memory in that order, its own events too: every process
  applies the same events in the same order (a change of structure is read again from the
  database at once where it was made, so the request that made it sees it);
- redraws only where the change was made: rendered once, for the subscribers of every
  process;
- keeps a step change's place in that order as the version of phones' pages, the same in
  every process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from facilitation import panels
from facilitation.broadcast import Broadcaster, PanelPush
from facilitation.live import Announced, Hub, Invalidated, Message, Redraw
from facilitation.memory import (
    Answered,
    Changed,
    Checked,
    Erased,
    Event,
    Excluded,
    Joined,
    Memory,
    Proposed,
    Retracted,
    Voted,
    Withdrawn,
)
from facilitation.seances import Participant

EVENTS: dict[str, type[Event]] = {kind.__name__: kind for kind in (
    Joined, Answered, Withdrawn, Proposed, Voted, Checked, Excluded, Changed, Retracted,
    Erased)}


class Relay:
    def __init__(self, hub: Hub, memory: Memory, broadcaster: Broadcaster) -> None:
        self.hub = hub
        self.memory = memory
        self.broadcaster = broadcaster
        hub.listener = self

    # Sending ------------------------------------------------------------------------

    def announce(self, event: Event) -> None:
        """A committed write's event, in commit order."""
        if isinstance(event, Changed | Erased):
            self.memory.apply(event)  # read again here at once; elsewhere when it arrives
        self.hub.send(Announced(event))

    def invalidate(self) -> None:
        """A write committed without saying what it changed."""
        self.memory.invalidate()
        self.hub.send(Invalidated())

    # Receiving ----------------------------------------------------------------------

    def received(self, message: Message, *, mine: bool, seq: int | None) -> None:
        if isinstance(message, Announced):
            event = message.event
            state = isinstance(event, Changed | Erased)
            if not (mine and state):
                self.memory.apply(event)
            self._redraw(event.session_id, state, mine=mine, seq=seq)
        elif isinstance(message, Redraw):
            self._redraw(message.session_id, message.state, mine=mine, seq=seq)
        elif not mine:
            self.memory.invalidate()

    def _redraw(self, session_id: int, state: bool, *, mine: bool, seq: int | None) -> None:
        if state:
            self.broadcaster.moved(session_id, seq)
        if mine:
            self.broadcaster.redraw(session_id, state)

    def resync(self) -> None:
        self.memory.forget()
        self.broadcaster.forget()

    def redraw_all(self, session_ids: Iterable[int]) -> None:
        for session_id in session_ids:
            self.broadcaster.redraw(session_id, state=True)

    # Between processes: plain data ---------------------------------------------------

    def encode(self, message: Any) -> Any:
        if isinstance(message, str):
            return {"html": message}
        if isinstance(message, PanelPush):
            return {"panel": {
                "session": message.session_id, "variants": message.variants,
                "sync": message.sync, "personal": dataclasses.asdict(message.personal),
                "timers": message.timers, "timer_only": message.timer_only,
                "fingerprint": list(message.fingerprint)}}
        if isinstance(message, Announced):
            event = message.event
            return {"event": type(event).__name__, **dataclasses.asdict(event)}
        if isinstance(message, Redraw):
            return {"redraw": message.session_id, "state": message.state}
        if isinstance(message, Invalidated):
            return {"invalidated": True}
        raise TypeError(f"not a live message: {type(message).__name__}")

    def decode(self, data: Any) -> Any:
        if "html" in data:
            return str(data["html"])
        if "panel" in data:
            return self._panel(data["panel"])
        if "event" in data:
            fields = dict(data)
            kind = EVENTS[fields.pop("event")]
            if kind is Joined:
                fields["participant"] = Participant(**fields["participant"])
            return Announced(kind(**fields))
        if "redraw" in data:
            return Redraw(int(data["redraw"]), bool(data["state"]))
        if "invalidated" in data:
            return Invalidated()
        raise ValueError("not a live message")

    def _panel(self, data: dict[str, Any]) -> PanelPush:
        session_id = int(data["session"])
        personal = data["personal"]
        fingerprint = (str(data["fingerprint"][0]), str(data["fingerprint"][1]))
        self.broadcaster.pushed(session_id, fingerprint)
        return PanelPush(
            session_id, dict(data["variants"]), str(data["sync"]),
            panels.Personal(tuple(personal["questions"]), personal["proposal_step"],
                            bool(personal["every"])),
            # This process's own: what its phones sent.
            self.memory.crowd_of(session_id), dict(data["timers"]),
            bool(data["timer_only"]), fingerprint)

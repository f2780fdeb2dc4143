"""A step's timer: an optional countdown the facilitator starts, shown on the projector and
on phones. It only informs: it never closes a question or moves a step by itself. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from facilitation.i18n_keys import N_, UserError

MAX_MINUTES = 180


@dataclass(frozen=True)
class Timer:
    minutes: int
    ends_at: dt.datetime  # aware, UTC

    def remaining(self, now: dt.datetime) -> int:
        """Whole seconds left (0 once over)."""
        return max(0, int((self.ends_at - now).total_seconds() + 0.999))

    def over(self, now: dt.datetime) -> bool:
        return self.remaining(now) == 0

    def ends_in(self, zone: dt.tzinfo) -> str:
        """The end as a time of day in the room's zone: "19:45"."""
        return self.ends_at.astimezone(zone).strftime("%H:%M")


def timer_of(minutes: int | None, ends_at: str | None) -> Timer | None:
    if not minutes or not ends_at:
        return None
    end = dt.datetime.fromisoformat(ends_at)
    return Timer(minutes, end if end.tzinfo else end.replace(tzinfo=dt.UTC))


def read_minutes(raw: str) -> int:
    """What the facilitator typed: a whole number of minutes, 1 to 180."""
    text = raw.strip().replace(",", ".")
    if text.endswith("min"):
        text = text[:-3].strip()
    if not text.isdecimal() or not 1 <= int(text) <= MAX_MINUTES:
        raise UserError(N_("The timer is a whole number of minutes, from 1 to %(limit)s."),
                        limit=MAX_MINUTES)
    return int(text)


def clock(seconds: int) -> str:
    """Seconds as the room reads them: "4:05", "12:00", "1:02:00"."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class Countdown:
    """A timer as a page shows it at one moment. `end` (epoch seconds) lets a script count
    down without asking the server again; the rest is what a page without script shows."""

    minutes: int
    seconds: int
    end: int
    clock: str
    until: str


def countdown(step: object, zone: dt.tzinfo, now: dt.datetime | None = None) -> Countdown | None:
    timer = getattr(step, "timer", None)
    if timer is None:
        return None
    seconds = timer.remaining(now or dt.datetime.now(dt.UTC))
    return Countdown(timer.minutes, seconds, int(timer.ends_at.timestamp()), clock(seconds),
                     timer.ends_in(zone))

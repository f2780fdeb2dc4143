"""How long a démarche's raw data is kept, and when it is purged. Pure, no I/O.

Raw data (answers, votes, proposals as sent, first names, participant tokens, hashed phone
numbers, paper-card entries) is kept `days` days after the démarche's last séance, then
purged; the reports and the totals stay. The last séance is the latest day anything was
planned or happened in any of its séances: a séance's date, the day it was created, the
day a step started or someone joined, the day it was closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from facilitation.i18n_keys import N_, UserError

DEFAULT_DAYS = 90
MIN_DAYS, MAX_DAYS = 1, 3650


@dataclass(frozen=True)
class Retention:
    """One démarche's retention: its period, its last séance, and its séances not purged."""

    workshop_id: int
    title: str
    days: int
    custom: bool  # the organiser set it; otherwise the default
    last_day: dt.date | None
    pending: tuple[int, ...] = ()  # séances whose raw rows are still there
    purged: Mapping[int, str] = field(default_factory=dict)  # séance id → when it was purged

    @property
    def purge_on(self) -> dt.date | None:
        """The day the raw data goes (None: the démarche has no séance yet)."""
        return None if self.last_day is None else self.last_day + dt.timedelta(days=self.days)

    @property
    def limits(self) -> tuple[int, int, int]:
        """What the organiser may set: (fewest days, most days, the default)."""
        return MIN_DAYS, MAX_DAYS, DEFAULT_DAYS

    def due(self, today: dt.date) -> bool:
        return bool(self.pending) and self.purge_on is not None and today >= self.purge_on


def local_day(value: str, zone: dt.tzinfo) -> dt.date | None:
    """A stored date ("2026-12-03") or time ("2026-12-03T17:30:00+00:00") as a day in
    `zone`; None for an empty or malformed value."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).date()


def last_day(values: Iterable[str], zone: dt.tzinfo) -> dt.date | None:
    days = [day for day in (local_day(v, zone) for v in values) if day is not None]
    return max(days, default=None)


def check_days(raw: object) -> int | None:
    """The organiser's retention period: a number of days, or empty for the default."""
    text = str(raw or "").strip()
    if not text:
        return None
    if not text.isdecimal() or len(text) > 5 or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise UserError(N_("The retention period is a number of days from %(min)s to "
                           "%(max)s."), min=MIN_DAYS, max=MAX_DAYS)
    return int(text)

"""The purge of raw data past its retention period: `run.py purge` and the server's own
daily run. Both are idempotent: a séance purged once is left alone after."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from facilitation.retention import Retention
from facilitation.store import Database
from facilitation.store import privacy as qp
from facilitation.store.crowd import purge_idempotency

log = logging.getLogger("eclair.purge")
KEYS_KEPT = dt.timedelta(days=2)  # idempotency keys: a retry comes within seconds


@dataclass(frozen=True)
class Outcome:
    """One démarche whose retention is over: what was purged (or would be, in a dry run),
    séance by séance, rows per table."""

    retention: Retention
    rows: dict[int, dict[str, int]]


def today(zone: dt.tzinfo) -> dt.date:
    return dt.datetime.now(zone).date()


async def purge_due(db: Database, day: dt.date, zone: dt.tzinfo, *, dry_run: bool = False,
                    on_purged: Callable[[qp.Purged], None] | None = None) -> list[Outcome]:
    """Purge every séance of every démarche whose retention is over on `day`. A dry run
    only counts what would go and changes nothing."""
    outcomes = []
    for retention in await qp.retentions(db, zone):
        if not retention.due(day):
            continue
        rows: dict[int, dict[str, int]] = {}
        for session_id in retention.pending:
            if dry_run:
                rows[session_id] = await qp.raw_counts(db, session_id)
                continue
            done = await qp.purge_seance(db, session_id, on_commit=on_purged)
            if done is not None:
                rows[session_id] = done.deleted
        outcomes.append(Outcome(retention, rows))
    return outcomes


def describe(outcomes: list[Outcome], dry_run: bool) -> str:
    """What the command line prints: per démarche, its retention and the rows per séance."""
    if not outcomes:
        return "Rien à purger / nothing to purge."
    verb = "would delete" if dry_run else "deleted"
    lines = []
    for outcome in outcomes:
        r = outcome.retention
        lines.append(f"démarche {r.workshop_id} « {r.title} »: last séance {r.last_day},"
                     f" kept {r.days} days, purge on {r.purge_on}")
        for session_id, rows in outcome.rows.items():
            counted = ", ".join(f"{table} {n}" for table, n in rows.items() if n) or "nothing"
            lines.append(f"  séance {session_id}: {verb} {counted}")
    if dry_run:
        lines.append("Dry run: nothing was changed.")
    return "\n".join(lines)


async def daily(db: Database, zone: dt.tzinfo, hours: float,
                on_purged: Callable[[qp.Purged], None] | None = None) -> None:
    """The server's automatic purge: at start, then every `hours` hours, until cancelled.
    An error is logged and the next run tries again."""
    while True:
        try:
            outcomes = await purge_due(db, today(zone), zone, on_purged=on_purged)
            purged = sum(len(outcome.rows) for outcome in outcomes)
            if purged:
                log.info("retention: raw data of %s séance(s) purged", purged)
            stale = (dt.datetime.now(dt.UTC) - KEYS_KEPT).isoformat(timespec="seconds")
            await db.write(purge_idempotency(stale), lambda _: None)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("retention: the purge failed; it runs again later")
        await asyncio.sleep(hours * 3600)

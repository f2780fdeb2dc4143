"""A step's timer: started by the facilitator, shown on the projector, the facilitator's
page and phones; it closes nothing by itself; bad input is refused in plain words."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from facilitation.i18n_keys import UserError
from facilitation.store import queries as q
from facilitation.timer import Timer, clock, countdown, read_minutes, timer_of
from tests.conftest import Seance, go


def test_minutes_are_read_as_people_type_them():
    assert read_minutes(" 5 ") == 5 and read_minutes("12 min") == 12
    for bad in ("", "0", "181", "2.5", "cinq", "-3"):
        with pytest.raises(UserError):
            read_minutes(bad)


def test_the_countdown_reads_like_a_clock_and_stops_at_zero():
    end = dt.datetime(2026, 11, 22, 18, 45, tzinfo=dt.UTC)
    timer = Timer(5, end)
    assert timer.remaining(end - dt.timedelta(seconds=245)) == 245
    assert timer.remaining(end + dt.timedelta(seconds=3)) == 0
    assert clock(245) == "4:05" and clock(3720) == "1:02:00" and clock(0) == "0:00"
    assert timer.ends_in(dt.timezone(dt.timedelta(hours=1))) == "19:45"
    assert timer_of(None, None) is None and timer_of(5, end.isoformat()) == timer

    class Step:
        timer = Timer(5, end)

    shown = countdown(Step(), dt.UTC, now=end - dt.timedelta(minutes=2))
    assert shown is not None and shown.clock == "2:00" and shown.until == "18:45"
    assert countdown(object(), dt.UTC) is None


def facilitator_page(seance: Seance) -> str:
    return seance.client.get(f"/f/{seance.links['facilitator']}").text


def test_a_timer_shows_everywhere_and_closes_nothing(seance):
    go(seance, "poll")
    seance.open(0)
    seance.join()  # this client is also a phone
    assert 'class="timer"' not in seance.client.get(f"/s/{seance.code}").text
    r = seance.facilitator_post("/timer", minutes="5")
    assert r.status_code == 200
    page = facilitator_page(seance)
    assert re.search(r'class="timer" data-end="\d+"', page)
    assert re.search(r"<span class=\"timer-clock\">[45]:\d\d</span> · jusqu'à \d\d:\d\d", page)
    assert "Temps prévu : jusqu'à" in seance.client.get(f"/s/{seance.code}").text
    screen = seance.client.get(f"/screen/{seance.links['screen']}").text
    assert re.search(r'class="timer" data-end="\d+"', screen)
    steps = seance.call(q.list_steps, seance.id)
    poll = next(s for s in steps if s.kind == "poll")
    assert poll.timer_minutes == 5 and poll.timer is not None
    # Over: it says so, and the question is still open.
    seance.client.portal.call(seance.client.app.state.db.write, lambda conn: conn.execute(
        "UPDATE steps SET timer_ends_at = '2020-01-01T00:00:00+00:00' WHERE id = ?",
        (poll.id,)))
    seance.client.app.state.services.memory.invalidate(None)
    assert "Temps écoulé." in facilitator_page(seance)
    questions = seance.call(q.list_questions, poll.id)
    assert questions[0].state == "open"
    # Stopped: gone everywhere.
    assert seance.facilitator_post("/timer", stop="1").status_code == 200
    assert 'class="timer"' not in facilitator_page(seance)
    assert "Temps prévu" not in seance.client.get(f"/s/{seance.code}").text


def test_a_bad_timer_is_refused_in_plain_words_and_changes_nothing(seance):
    go(seance, "poll")
    r = seance.facilitator_post("/timer", minutes="dix")
    assert r.status_code == 422
    assert "un nombre entier de 1 à 180" in r.text
    steps = seance.call(q.list_steps, seance.id)
    assert all(s.timer is None for s in steps)

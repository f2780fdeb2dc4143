"""A vote step over HTTP: phones, paper, API, the rule, the synthesis and closing."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import votes as qv
from facilitation.voting import ConsensusRule
from tests.conftest import csrf_of, go

PROPOSALS = ["une navette gratuite", "des ateliers le samedi", "garder le guichet papier"]



@pytest.fixture
def voting(seance, client):
    step = next(s.id for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    ids = [seance.call(qp.add_proposal, seance.id, step, text, "phone") for text in PROPOSALS]
    go(seance, "vote")
    base = f"/f/{seance.links['facilitator']}"
    token = csrf_of(client.get(base).text)
    return base, token, ids


def people(seance, n):
    return [{"authorization": "Bearer " + seance.client.post(
        "/api/sessions/join", json={"code": seance.code}).json()["token"]} for _ in range(n)]


def vote_api(seance, who, **body):
    return seance.client.post(f"/api/sessions/{seance.code}/votes", json=body, headers=who)


def test_agree_vote_consensus_synthesis_and_closing(seance, client, voting):
    base, token, ids = voting
    voters = people(seance, 6)
    r = vote_api(seance, voters[0], item_id=ids[0], value="agree")
    assert r.status_code == 409 and r.json()["error"]["code"] == "vote_closed"
    client.post(f"{base}/vote/open", data={"csrf": token})
    for who in voters:  # everyone agrees with the first; the second divides the room
        assert vote_api(seance, who, item_id=ids[0], value="agree").status_code == 201
    for i, who in enumerate(voters):
        vote_api(seance, who, item_id=ids[1], value="agree" if i % 2 else "disagree")
    vote_api(seance, voters[0], item_id=ids[2], value="pass")
    for body in ({"item_id": 999999, "value": "agree"}, {"item_id": ids[0], "value": "maybe"},
                 {"value": "agree"}, {"item_id": ids[0], "value": True}):
        assert vote_api(seance, voters[0], **body).status_code == 422, body
    # A changed vote counts once.
    vote_api(seance, voters[0], item_id=ids[2], value="agree")
    screen = client.get(f"/screen/{seance.links['screen']}").text
    assert "au moins 67" in screen.replace("\u202f", " ").replace("\xa0", " ")
    client.post(f"{base}/vote/close", data={"csrf": token})
    assert vote_api(seance, voters[1], item_id=ids[2], value="agree").status_code == 409
    go(seance, "synthesis")
    state = seance.call(q.get_state, seance.id)
    summary = seance.call(qv.synthesis_of, state)
    assert [r.item.text for r in summary.consensus] == [PROPOSALS[0]]
    assert [r.item.text for r in summary.divisive] == [PROPOSALS[1]]
    assert [r.item.text for r in summary.too_few] == [PROPOSALS[2]]
    assert summary.too_few[0].verdict.tally.n == 1  # the changed vote, counted once
    screen = client.get(f"/screen/{seance.links['screen']}").text
    assert "une navette gratuite" in screen and "trop peu de votes" in screen.lower() or \
        "Trop peu de votes" in screen
    # Closing: the agenda is prefilled with what divides the room.
    go(seance, "closing")
    page = client.get(base)
    assert "À approfondir : des ateliers le samedi" in page.text
    r = client.post(f"{base}/close", data={"csrf": token, "title": "", "agenda": "x"})
    assert r.status_code == 422
    r = client.post(f"{base}/close", data={"csrf": token, "title": "Séance 2 bis",
                                           "date": "2027-02-04", "time": "18:00",
                                           "place": "Salle B", "carry": "1",
                                           "agenda": "Ateliers du samedi\n\nBilan navettes"})
    assert r.status_code == 200 and "Séance 2 bis" in r.text
    new = seance.call(qv.next_seance, seance.id)
    assert (new.title, new.date, new.place) == ("Séance 2 bis", "2027-02-04", "Salle B")
    assert seance.call(qv.list_agenda, new.id) == ["Ateliers du samedi", "Bilan navettes"]
    carried = seance.call(qp.list_proposals, new.id)
    assert sorted(p.text for p in carried) == sorted(PROPOSALS[1:])  # not the consensus one
    again = client.post(f"{base}/close", data={"csrf": token, "title": "encore"})
    assert again.status_code == 409
    # Phones show what was decided and when the next séance is.
    seance.join()
    phone = client.get(f"/s/{seance.code}").text
    assert "une navette gratuite" in phone and "Séance 2 bis" in phone
    assert "jeudi 4 février 2027" in phone


def test_phone_votes_one_item_at_a_time_in_its_own_order(seance, client, voting):
    base, token, ids = voting
    client.post(f"{base}/vote/open", data={"csrf": token})
    seance.join()
    csrf = client.cookies.get("eclair_csrf")
    seen = []
    for _ in PROPOSALS:
        page = client.get(f"/s/{seance.code}").text
        item = int(page.split('name="item" value="')[1].split('"')[0])
        seen.append(item)
        r = client.post(f"/s/{seance.code}/vote", data={"csrf": csrf, "item": item,
                                                        "value": "agree"})
        assert r.status_code == 200
    assert sorted(seen) == sorted(ids)
    assert "vous avez voté sur chaque" in r.text.lower()
    r = client.post(f"/s/{seance.code}/vote", data={"csrf": csrf, "item": ids[0],
                                                    "value": "peut-être"})
    assert r.status_code == 422 and "Choisissez d'accord" in r.text or r.status_code == 422


def test_dot_voting_and_majority_judgment(seance, client, voting):
    base, token, ids = voting
    client.post(f"{base}/vote", data={"csrf": token, "method": "dots", "target": "proposals",
                                      "points": "5", "max_per_item": "3"})
    client.post(f"{base}/vote/open", data={"csrf": token})
    r = client.post(f"{base}/vote", data={"csrf": token, "method": "agree",
                                          "target": "proposals", "points": "5",
                                          "max_per_item": "3"})
    assert r.status_code == 409  # settings are changed only while closed
    a, b = people(seance, 2)
    assert vote_api(seance, a, dots={str(ids[0]): 3, str(ids[1]): 2}).status_code == 201
    assert vote_api(seance, b, dots={str(ids[1]): 3, str(ids[2]): 3}).status_code == 422
    assert vote_api(seance, b, dots={str(ids[1]): 4}).status_code == 422
    assert vote_api(seance, b, dots={str(ids[1]): 3, str(ids[2]): 1}).status_code == 201
    assert vote_api(seance, a, dots={str(ids[2]): 1}).status_code == 201  # replaces a's
    step = next(s for s in seance.call(q.list_steps, seance.id) if s.kind == "vote")
    results = seance.call(qv.results_of, seance.id, step)
    assert {r.item.id: r.points for r in results.rows} == {ids[0]: 0, ids[1]: 3, ids[2]: 2}
    client.post(f"{base}/vote/close", data={"csrf": token})
    # Points are not grades: once people voted, the method stays (even closed).
    r = client.post(f"{base}/vote", data={"csrf": token, "method": "judgment",
                                          "target": "proposals", "points": "5",
                                          "max_per_item": "3"})
    assert r.status_code == 409 and "la façon de voter ne change plus" in r.text
    results = seance.call(qv.results_of, seance.id, step)
    assert results.method == "dots" and {r.item.id: r.points for r in results.rows}[ids[1]] == 3


def test_majority_judgment(seance, client, voting):
    base, token, ids = voting
    client.post(f"{base}/vote", data={"csrf": token, "method": "judgment",
                                      "target": "proposals", "points": "5",
                                      "max_per_item": "3"})
    client.post(f"{base}/vote/open", data={"csrf": token})
    a, b = people(seance, 2)
    grades = {str(ids[0]): 0, str(ids[1]): 3, str(ids[2]): 6}
    assert vote_api(seance, a, grades=grades).status_code == 201
    assert vote_api(seance, b, grades={str(ids[0]): 1}).status_code == 422  # every item
    assert vote_api(seance, b, grades={**grades, str(ids[0]): 9}).status_code == 422
    step = next(s for s in seance.call(q.list_steps, seance.id) if s.kind == "vote")
    results = seance.call(qv.results_of, seance.id, step)
    assert [r.item.id for r in results.rows] == ids


def test_paper_votes_and_roles(seance, client, voting):
    base, token, ids = voting
    client.post(f"{base}/vote/open", data={"csrf": token})
    helper = client.get(f"/h/{seance.links['helper']}")
    step = next(s for s in seance.call(q.list_steps, seance.id) if s.kind == "vote")
    r = client.post(f"/h/{seance.links['helper']}/vote", data={
        "csrf": csrf_of(helper.text), "card": "12", "step": step.id, f"v-{ids[0]}": "agree"})
    assert "Bulletin 12 enregistré" in r.text
    assert seance.call(qv.ballots, step.id)[0].value == 1
    # Paper votes count with phone votes, and the room sees each channel.
    for who in people(seance, 2):
        vote_api(seance, who, item_id=ids[1], value="disagree")
    assert seance.call(qv.voter_channels, step.id) == {"phone": 2, "paper": 1}
    screen = client.get(f"/screen/{seance.links['screen']}").text
    assert "téléphone : 2 · papier : 1" in screen
    assert "téléphone : 2 · papier : 1" in client.get(base).text
    seance.join()
    participant = client.cookies.get(f"eclair_p_{seance.code}")
    for role_token in (participant, seance.links["helper"], seance.links["screen"]):
        for path in ("/vote", "/vote/close", "/close"):
            r = client.post(f"/f/{role_token}{path}", data={"csrf": token, "title": "x"})
            assert r.status_code == 404
    assert seance.call(q.list_steps, seance.id)  # nothing broke
    settings = seance.call(q.list_steps, seance.id)
    assert any(s.kind == "vote" and '"open": true' in s.settings for s in settings)


def test_organiser_sets_the_consensus_rule(seance, organiser):
    c = organiser
    page = c.get("/organiser/workshops/1")
    assert "Règle de consensus" in page.text
    token = csrf_of(page.text)
    url = f"/organiser/sessions/{seance.id}/consensus"
    for data in ({"min_agree": "40", "max_disagree": "10", "min_votes": "5"},
                 {"min_agree": "70", "max_disagree": "60", "min_votes": "5"},
                 {"min_agree": "x", "max_disagree": "10", "min_votes": "5"}):
        assert c.post(url, data={"csrf": token, **data}).status_code == 422
    c.post(url, data={"csrf": token, "min_agree": "75", "max_disagree": "10",
                      "min_votes": "8", "every_subgroup": "1"})
    rule = seance.call(qv.get_rule, seance.id)
    assert (rule.min_agree, rule.max_disagree, rule.min_votes, rule.every_subgroup) == (
        0.75, 0.1, 8, True)


def test_closing_leads_to_the_next_seance_already_planned_not_a_second_one(seance, client,
                                                                          voting):
    base, token, ids = voting
    first = seance.call(q.get_session, seance.id)
    before = seance.call(q.list_sessions, first.workshop_id)
    planned = before[1]
    go(seance, "closing")
    page = client.get(base).text
    # The form starts from the planned séance, and says where closing leads.
    assert f'value="{planned.title}"' in page.replace("&#39;", "'")
    assert f'value="{planned.date}"' in page and "existe déjà" in page
    r = client.post(f"{base}/close", data={"csrf": token, "title": planned.title,
                                           "date": planned.date, "time": planned.time,
                                           "place": planned.place, "agenda": "Bilan",
                                           "carry": "1"})
    assert r.status_code == 200
    after = seance.call(q.list_sessions, first.workshop_id)
    assert [s.id for s in after] == [s.id for s in before]  # no "Séance 2" beside Séance 2
    assert seance.call(qv.next_seance, seance.id).id == planned.id
    assert seance.call(qv.list_agenda, planned.id) == ["Bilan"]
    steps = seance.call(q.list_steps, planned.id)
    # It keeps its own déroulé; what is carried over gets a proposals step before closing.
    assert [s.kind for s in steps] == ["welcome", "poll", "proposals", "closing"]
    carried = seance.call(qp.list_proposals, planned.id)
    assert sorted(p.text for p in carried) == sorted(PROPOSALS)


def test_every_result_is_shown_and_voted_themes_leave_the_agenda(seance, client, voting):
    base, token, ids = voting
    transport = seance.call(qp.create_theme, seance.id, "Transport")
    seance.call(qp.create_theme, seance.id, "Papiers")
    seance.call(qp.move, seance.id, ids[0], transport)
    client.post(f"{base}/vote/open", data={"csrf": token})
    # 4 agree, 1 disagree: enough votes, neither consensus (20 % disagree) nor divided.
    for i, who in enumerate(people(seance, 5)):
        vote_api(seance, who, item_id=ids[0], value="disagree" if i == 0 else "agree")
    client.post(f"{base}/vote/close", data={"csrf": token})
    go(seance, "synthesis")
    seance.join()
    for page in (client.get(f"/screen/{seance.links['screen']}").text,
                 client.get(f"/s/{seance.code}").text,
                 client.get(f"{base}/report").text,
                 client.get(f"{base}/report/md").text):
        assert "Pas de consensus" in page and PROPOSALS[0] in page
    # The theme voted on through its proposal is not "not yet voted on".
    go(seance, "closing")
    page = client.get(base).text
    assert "Thème pas encore voté : Papiers" in page
    assert "Thème pas encore voté : Transport" not in page


def test_without_an_agree_vote_no_one_is_told_there_is_no_consensus(seance, client, voting):
    base, token, ids = voting
    # Dot voting only: priorities, and no word of consensus or its rule.
    client.post(f"{base}/vote", data={"csrf": token, "method": "dots", "target": "proposals",
                                      "points": "5", "max_per_item": "3", "open": "1"})
    for who in people(seance, 2):
        assert vote_api(seance, who, dots={str(ids[1]): 3}).status_code == 201
    client.post(f"{base}/vote/close", data={"csrf": token})
    go(seance, "synthesis")
    seance.join()
    for page in (client.get(f"/s/{seance.code}").text,
                 client.get(f"/screen/{seance.links['screen']}").text):
        assert PROPOSALS[1] in page
        assert "ne fait consensus" not in page and "Consensus : au moins" not in page


def test_carry_over_honours_its_boxes_and_leaves_out_what_the_room_rejected(seance, client,
                                                                           voting):
    """A proposal rejected 2/14/2 was carried, and every theme was copied even unticked
    (4 → 9 → 14 themes over three séances, empty headings in the report)."""
    base, token, ids = voting
    transport = seance.call(qp.create_theme, seance.id, "Transport")
    seance.call(qp.create_theme, seance.id, "Papiers")  # holds nothing carried
    seance.call(qp.move, seance.id, ids[1], transport)
    client.post(f"{base}/vote/open", data={"csrf": token})
    for i, who in enumerate(people(seance, 18)):
        vote_api(seance, who, item_id=ids[0], value="agree")  # consensus
        vote_api(seance, who, item_id=ids[2],  # rejected: 2 agree, 14 disagree, 2 pass
                 value="agree" if i < 2 else "pass" if i < 4 else "disagree")
    client.post(f"{base}/vote/close", data={"csrf": token})
    go(seance, "closing")
    page = client.get(base).text
    # The facilitator sees the list: what goes by default is ticked, the rejected one not.
    box = re.search(rf'<input type="checkbox" name="carry_ids" value="{ids[2]}"[^>]*>', page)
    assert box and "checked" not in box.group(0) and "rejetée par la salle" in page
    assert re.search(rf'name="carry_ids" value="{ids[1]}" checked', page)
    assert f'name="carry_ids" value="{ids[0]}"' not in page  # consensus: settled
    # Sent as shown, themes unticked: the carried proposal only, no theme copied.
    r = client.post(f"{base}/close", data={"csrf": token, "title": "Suite",
                                           "carry_list": "1", "carry_ids": [str(ids[1])]})
    assert r.status_code == 200
    new = seance.call(qv.next_seance, seance.id)
    assert [p.text for p in seance.call(qp.list_proposals, new.id)] == [PROPOSALS[1]]
    assert seance.call(qp.list_themes, new.id) == []


def test_carried_themes_are_only_those_holding_a_carried_proposal(seance, client, voting):
    base, token, ids = voting
    transport = seance.call(qp.create_theme, seance.id, "Transport")
    seance.call(qp.create_theme, seance.id, "Papiers")
    seance.call(qp.move, seance.id, ids[1], transport)
    go(seance, "closing")
    r = client.post(f"{base}/close", data={
        "csrf": token, "title": "Suite", "carry_list": "1", "carry_themes": "1",
        "carry_ids": [str(ids[1]), str(ids[2]), "999999"]})  # an unknown id is ignored
    assert r.status_code == 200
    new = seance.call(qv.next_seance, seance.id)
    assert [t.name for t in seance.call(qp.list_themes, new.id)] == ["Transport"]
    carried = seance.call(qp.list_proposals, new.id)
    assert sorted(p.text for p in carried) == sorted([PROPOSALS[1], PROPOSALS[2]])
    assert {p.text: p.theme_id is not None for p in carried} == {PROPOSALS[1]: True,
                                                                PROPOSALS[2]: False}


def test_a_seance_created_at_closing_prints_its_agenda_once(seance, client, voting):
    """Closing wrote the next séance's agenda both as its objectives and as its agenda
    items: the new séance's report printed it twice."""
    base, token, _ids = voting
    r = client.post(f"{base}/close", data={"csrf": token, "title": "Suite",
                                           "agenda": "Bilan des navettes\nAteliers du samedi"})
    assert r.status_code == 200
    second = seance.call(qv.next_seance, seance.id)  # the démarche's planned séance
    link = seance.call(q.active_links, second.id)["facilitator"]
    # The second séance is closed in turn: the third one is created at closing.
    page = client.get(f"/f/{link}").text
    r = client.post(f"/f/{link}/close", data={"csrf": csrf_of(page), "title": "Troisième",
                                              "agenda": "Choisir deux actions\nQui fait quoi"})
    assert r.status_code == 200
    third = seance.call(qv.next_seance, second.id)
    assert third.title == "Troisième" and third.number == 3
    third_link = seance.call(q.active_links, third.id)["facilitator"]
    for fmt in ("md", "html"):
        text = client.get(f"/f/{third_link}/report/{fmt}").text
        for item in ("Choisir deux actions", "Qui fait quoi"):
            assert text.count(item) == 1, (fmt, item, text)
    # The closed séance's report names the next agenda once too.
    text = client.get(f"/f/{link}/report/md").text
    assert text.count("Choisir deux actions") == 1


def test_seances_already_created_at_closing_lose_the_copy_of_their_agenda(tmp_path,
                                                                          monkeypatch):
    import sqlite3

    from facilitation.store import schema

    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:14])
    schema.migrate(conn)
    conn.execute("INSERT INTO workshops (title, created_at) VALUES ('D', 'now')")
    for number, objectives, previous in ((1, "Les siennes", None), (2, "A\nB", 1),
                                         (3, "A, revu\nB", 2)):
        conn.execute("INSERT INTO sessions (workshop_id, number, title, objectives, code,"
                     " created_at, previous_id) VALUES (1, ?, 'S', ?, ?, 'now', ?)",
                     (number, objectives, f"C{number}", previous))
        conn.executemany("INSERT INTO agenda_items (session_id, position, text)"
                         " VALUES (?, ?, ?)", [(number, 0, "A"), (number, 1, "B")])
    monkeypatch.undo()
    schema.migrate(conn)
    found = [r[0] for r in conn.execute("SELECT objectives FROM sessions ORDER BY number")]
    # Only the copy closing wrote goes; objectives typed (or edited since) stay.
    assert found == ["Les siennes", "", "A, revu\nB"]


# The table rule through the store: joins are real participants there -----------------

TABLES_PLAN = """
[workshop]
title = "Tables"
[[sessions]]
title = "Séance"
subgroups = ["A", "B", "C"]
[[sessions.steps]]
kind = "proposals"
[[sessions.steps]]
kind = "vote"
"""


@pytest.fixture(scope="module")
def tables_db(tmp_path_factory):
    """One database for every example, on one event loop kept between them."""
    import asyncio

    from facilitation.store import Database

    runner = asyncio.Runner()
    db = Database(tmp_path_factory.mktemp("tables") / "tables.db")
    runner.run(db.open())
    yield runner, db
    runner.run(db.close())
    runner.close()


async def table_seance(db, ballots, rule):
    """A séance with tables A, B, C, two proposals and `ballots` (participant, table, item
    index, value): every voter joined at their table."""
    from facilitation import plans
    from facilitation.store import crowd as sc

    workshop = await q.create_workshop(db, plans.parse_plan(TABLES_PLAN))
    seance = (await q.list_sessions(db, workshop))[0]
    steps = await q.list_steps(db, seance.id)
    tables = dict((name, gid) for gid, name in await qp.list_subgroups(db, seance.id))
    items = [await qp.add_proposal(db, seance.id, steps[0].id, f"idée {i}", "phone")
             for i in range(2)]
    await qv.set_rule(db, seance.id, rule)
    people: dict[int, int] = {}
    for who, table, _item, _value in ballots:
        if who not in people:
            person = await db.write(sc.insert_participant(
                seance.id, f"t{seance.id}-{who}", "", "fr-FR", subgroup_id=tables[table]))
            people[who] = person.id
    await db.write(lambda conn: conn.executemany(
        "INSERT INTO votes (step_id, participant_id, item_kind, item_id, value, updated_at)"
        " VALUES (?, ?, 'proposal', ?, ?, '')",
        [(steps[1].id, people[who], items[item], value) for who, _t, item, value in ballots]))
    return seance, steps[1], tables


async def statuses(db, seance, step):
    results = await qv.results_of(db, seance.id, step)
    return {row.item.id: row.verdict.status for row in results.rows}


async def join_without_voting(db, seance, tables, joins):
    from facilitation.store import crowd as sc

    for n, table in enumerate(joins):
        await db.write(sc.insert_participant(seance.id, f"j{seance.id}-{n}", "", "fr-FR",
                                             subgroup_id=tables[table]))


@settings(max_examples=60)
@given(ballots=st.lists(st.tuples(st.integers(1, 30), st.sampled_from("ABC"),
                                  st.integers(0, 1), st.sampled_from([1, 0, -1])),
                        max_size=60, unique_by=lambda b: (b[0], b[2]))
       .map(lambda bs: [(w, next(t for ww, t, _i, _v in bs if ww == w), i, v)
                        for w, _t, i, v in bs]),
       joins=st.lists(st.sampled_from("ABC"), min_size=1, max_size=12),
       min_votes=st.integers(1, 6), max_disagree=st.sampled_from([0.0, 0.15, 0.3]))
def test_joining_without_voting_never_removes_a_consensus(tables_db, ballots, joins, min_votes,
                                                         max_disagree):
    runner, db = tables_db
    rule = ConsensusRule(min_votes=min_votes, max_disagree=max_disagree, every_subgroup=True)

    async def check():
        seance, step, tables = await table_seance(db, ballots, rule)
        before = await statuses(db, seance, step)
        await join_without_voting(db, seance, tables, joins)
        after = await statuses(db, seance, step)
        return before, after

    before, after = runner.run(check())
    for item, status in before.items():
        if status == "consensus":
            assert after[item] == "consensus"
    assert after == before  # who did not vote changes no verdict at all

"""One cleaning of typed text, where it comes in: no control or bidi-override character
is ever stored, whatever the channel."""

from hypothesis import given
from hypothesis import strategies as st

from facilitation import text
from facilitation.store import proposals as qp
from tests.conftest import csrf_of, fac, go

ZWJ = "\u200d"
RLO = "\u202e"


def test_clean_removes_controls_and_bidi_overrides_and_keeps_writing():
    assert text.clean("a\x01b\x00c\x7fd\x9be") == "abcde"
    assert text.clean(f"abc{RLO}fed\u202c \u2066x\u2069") == "abcfed x"
    assert text.clean("ligne 1\r\nligne 2\rligne 3\u2028fin\tavec tab") == \
        "ligne 1\nligne 2\nligne 3\nfin\tavec tab"
    # Joiners and direction marks are writing, not tricks; accents are composed (NFC).
    assert text.clean(f"co{ZWJ}opération \u200c \u200e") == f"co{ZWJ}opération \u200c \u200e"
    assert text.clean("e\u0301te\u0301") == "été"
    assert text.clean("\ud800x") == "x"  # a lone surrogate cannot even be written out
    assert text.one_line(" deux \n lignes\t\x01 ") == "deux lignes"


def test_clean_tree_reaches_every_string_without_recursion():
    nested: list = ["\x01"]
    for _ in range(5000):
        nested = [nested]
    cleaned = text.clean_tree({"a\x02": [RLO + "x", {"k": "y\x03"}, 3, None], "deep": nested})
    assert cleaned["a"] == ["x", {"k": "y"}, 3, None]
    inner = cleaned["deep"]
    while isinstance(inner, list) and len(inner) == 1 and isinstance(inner[0], list):
        inner = inner[0]
    assert inner == [""]


@given(st.text())
def test_cleaned_text_has_nothing_unsafe_and_cleaning_twice_changes_nothing(raw):
    once = text.clean(raw)
    assert not text.UNSAFE.search(once) and "\r" not in once
    assert text.clean(once) == once
    once.encode("utf-8")  # always writable


def test_every_channel_stores_clean_text(seance, client):
    """A form (phone), the JSON API and the helper page: names and proposals arrive clean."""
    go(seance, "proposals")
    page = client.get(f"/j/{seance.code}")
    client.post(f"/j/{seance.code}", data={"csrf": csrf_of(page.text), "language": "fr-FR",
                                           "name": f"Ma{RLO}rie\x01"})
    page = client.get(f"/s/{seance.code}")
    r = client.post(f"/s/{seance.code}/propose", data={
        "csrf": csrf_of(page.text), "text": f"des bancs\x01 {RLO}gnol co{ZWJ}op"})
    assert r.status_code == 200
    token = client.post("/api/sessions/join", json={"code": seance.code,
                                                    "name": "Api\x07"}).json()["token"]
    r = client.post(f"/api/sessions/{seance.code}/proposals",
                    json={"text": f"un {RLO}abri\x0b vélo"},
                    headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 201 and r.json()["text"] == "un abri vélo"
    names = [row["name"] for row in client.portal.call(
        client.app.state.db.fetchall, "SELECT name FROM participants ORDER BY id", ())]
    assert names == ["Marie", "Api"]
    texts = sorted(p.text for p in seance.call(qp.list_proposals, seance.id))
    assert texts == [f"des bancs gnol co{ZWJ}op", "un abri vélo"]
    assert fac(seance)  # the facilitator's own API header is unchanged


def test_a_plan_file_is_cleaned_too():
    """TOML escapes can carry any character ("\\u0001"): the parsed plan is cleaned."""
    from facilitation import plans
    from tests.conftest import DEMO

    source = DEMO.read_text(encoding="utf-8").replace(
        'title = "', 'title = "\\u0001\\u202e', 1)
    plan = plans.parse_plan(source)
    assert not text.UNSAFE.search(plan.title) and plan.title

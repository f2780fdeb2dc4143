"""French short answers into word groups: stop words removed, inflections grouped. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

# Common French function words, plus the words people use to frame a short answer.
STOP_WORDS = frozenset("""
a à afin ai aie aient aies ait alors as au aucun aucune aussi autre autres aux avec avoir
avons avez ayant bien c ça car ce ceci cela celle celles celui ces cet cette ceux chaque chez
ci comme comment d dans de des deux devrait dit do donc dont du elle elles en encore entre es
est et étaient était étant été être eu eux fait faire fois font hors ici il ils j je jusqu l
la là le les leur leurs lui m ma mais me même mes moi mon n ne ni non nos notre nous on ont
ou où par parce pas peu peut plus pour pourquoi qu quand que quel quelle quelles quels qui
quoi s sa sans se selon ses si sien son sont sous sur t ta te tes toi ton toujours tous tout
toute toutes très tu un une unes uns v va vers vos votre vous vu y
oui avoir etre faut peux pouvoir beaucoup trop rien chose choses etc
""".split())
TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
# SMS spelling and everyday shortenings, written out: a sentence encoder trained on edited
# text reads "jsp c trop dur pr moi" as noise. Common French usage, not any test set's.
SMS = {
    "c": "c'est", "ct": "c'était", "jsp": "je sais pas", "jcp": "je sais pas",
    "jpp": "je peux pas", "chui": "je suis", "chuis": "je suis", "g": "j'ai", "ya": "il y a",
    "qqn": "quelqu'un", "qqun": "quelqu'un", "qq1": "quelqu'un", "qqch": "quelque chose",
    "qq": "quelques", "pr": "pour", "pa": "pas", "tjrs": "toujours", "tjr": "toujours",
    "tjs": "toujours", "bcp": "beaucoup", "tt": "tout", "ts": "tous", "mm": "même",
    "pk": "pourquoi", "pq": "pourquoi", "ke": "que", "koi": "quoi", "ki": "qui", "dc": "donc",
    "ds": "dans", "vs": "vous", "nn": "non", "pcq": "parce que", "pck": "parce que",
    "vrmt": "vraiment", "auj": "aujourd'hui", "ajd": "aujourd'hui", "stp": "s'il te plaît",
    "svp": "s'il vous plaît", "rdv": "rendez-vous", "mdp": "mot de passe",
    "ordi": "ordinateur", "ordis": "ordinateurs", "pc": "ordinateur", "tel": "téléphone",
    "tél": "téléphone", "appli": "application", "applis": "applications",
    "dispo": "disponible", "dispos": "disponibles", "perso": "personnel",
    "persos": "personnels", "info": "information", "infos": "informations",
    "admin": "administration", "pb": "problème", "pbs": "problèmes", "msg": "message",
    "covoit": "covoiturage", "cb": "carte bancaire", "ado": "adolescent",
    "ados": "adolescents", "bjr": "bonjour", "asso": "association", "assos": "associations",
    "tuto": "tutoriel", "tutos": "tutoriels",
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("french")


@lru_cache(maxsize=20_000)
def group_key(word: str) -> str:
    """The key that groups inflected forms: the Snowball stem, without accents."""
    return strip_accents(_stemmer().stemWord(word))


def expand_sms(text: str) -> str:
    """The text with SMS spellings and shortenings written out ("jsp" → "je sais pas")."""
    return _WORD.sub(lambda m: SMS.get(m.group(0).lower(), m.group(0)), text)


def words(text: str) -> list[str]:
    """The meaningful words of a short answer, lower-cased, in order."""
    found = []
    for token in TOKEN.findall(text.lower().replace("’", "'")):
        if len(token) < 2 or token in STOP_WORDS or strip_accents(token) in STOP_WORDS:
            continue
        found.append(token)
    return found


@dataclass(frozen=True)
class WordGroup:
    key: str
    word: str  # the form people used most
    forms: tuple[str, ...]  # every form used, most used first
    count: int  # respondents who used it
    hidden: bool = False


def word_groups(texts: Iterable[str], hidden: Iterable[str] = ()) -> list[WordGroup]:
    """Given short answers, return word groups by respondents using them, most first."""
    respondents: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        keys = set()
        for word in words(text):
            key = group_key(word)
            keys.add(key)
            forms.setdefault(key, Counter())[word] += 1
        respondents.update(keys)
    hidden_keys = set(hidden)
    groups = []
    for key, count in respondents.items():
        ranked = sorted(forms[key].items(), key=lambda pair: (-pair[1], len(pair[0]), pair[0]))
        groups.append(WordGroup(key, ranked[0][0], tuple(form for form, _ in ranked), count,
                                key in hidden_keys))
    groups.sort(key=lambda group: (-group.count, group.word))
    return groups

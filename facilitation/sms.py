"""Answers by SMS from basic phones: reading the message, hashing the number. Pure."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from facilitation import codes
from facilitation.i18n_keys import N_, UserError
from facilitation.polls import Question


class SmsError(UserError):
    """A message that cannot be used; the reply says why."""


@dataclass(frozen=True)
class Message:
    code: str | None  # the séance's code, if the message starts with one
    answer: str  # what follows: "2", "B", "1 3", "4"…


def number_hash(secret: str, number: str) -> str:
    """The only form in which a phone number is kept: a keyed hash (HMAC-SHA256)."""
    digits = re.sub(r"[^\d+]", "", number)
    return hmac.new(secret.encode(), digits.encode(), hashlib.sha256).hexdigest()


def parse(body: str) -> Message:
    """ "ABCD 2", "abcd b", "2" or "1 3" → the code (if any) and the answer."""
    words = body.strip().split()[:12]
    if not words:
        raise SmsError(N_("Empty message. Send the code shown on the screen, then your answer."))
    code = codes.normalize_code(words[0])  # 4 to 6 letters: never a one-letter answer
    if code is None and len(words) > 1 and 4 <= len(words[0]) <= 6 and words[0].isalnum():
        code = words[0].upper()  # meant as a code, mistyped: the reply will say so
    if code is not None:
        words = words[1:]
    return Message(code, " ".join(words))


def choices_of(question: Question, answer: str) -> list[object] | int:
    """The message's answer in the shape the question takes (choice ids, or a scale value)."""
    tokens = [t for t in re.split(r"[\s,;]+", answer.upper()) if t]
    if question.kind == "scale":
        if len(tokens) != 1 or not tokens[0].isdecimal():
            raise SmsError(N_("Answer with one number from %(low)s to %(high)s."),
                           low=question.settings.scale_min, high=question.settings.scale_max)
        return int(tokens[0])
    if question.kind not in ("single", "multiple"):
        raise SmsError(N_("This question cannot be answered by SMS."))
    picked: list[object] = []
    for token in tokens:
        if token.isdecimal() and 1 <= int(token) <= len(question.choices):
            picked.append(question.choices[int(token) - 1].id)
        elif len(token) == 1 and "A" <= token <= "Z" and ord(token) - 65 < len(question.choices):
            picked.append(question.choices[ord(token) - 65].id)
        else:
            raise SmsError(N_("Answer with the number of your choice, from 1 to %(limit)s."),
                           limit=len(question.choices))
    return picked

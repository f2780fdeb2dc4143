import re

from hypothesis import given
from hypothesis import strategies as st

from facilitation import codes


def test_alphabet_has_no_ambiguous_characters():
    for pair in ("0O", "1IL", "2Z", "5S", "8B", "UV"):
        assert not set(pair) & set(codes.ALPHABET), pair


def test_new_codes_have_the_asked_length_and_alphabet():
    for length in (4, 5, 6):
        for _ in range(200):
            code = codes.new_code(length)
            assert re.fullmatch(f"[{codes.ALPHABET}]{{{length}}}", code)


def test_codes_vary():
    assert len({codes.new_code() for _ in range(500)}) > 490


def test_length_outside_4_to_6_is_refused():
    for length in (3, 7):
        try:
            codes.new_code(length)
        except ValueError:
            continue
        raise AssertionError(length)


def test_normalize_accepts_what_people_type():
    assert codes.normalize_code(" ac-ef 3 ") == "ACEF3"
    assert codes.normalize_code("acef3") == "ACEF3"


def test_normalize_refuses_what_cannot_be_a_code():
    for typed in ("", "AC", "ACEFGHJ", "AC0F3", "ACÉF3", "'; drop"):
        assert codes.normalize_code(typed) is None, typed


@given(st.text(max_size=30))
def test_normalize_returns_none_or_a_valid_code(typed):
    code = codes.normalize_code(typed)
    assert code is None or (4 <= len(code) <= 6 and set(code) <= set(codes.ALPHABET))

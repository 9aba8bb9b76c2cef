"""Properties of the normaliser, over generated texts and options (hypothesis)."""

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.engine.bundle import KeywordSet
from moderation.engine.decision import Action
from moderation.engine.keywords import CompiledKeywordSet
from moderation.engine.match_options import FOLDINGS
from moderation.engine.normalize import READING_MARK, MatchOptions, normalize, normalize_term

# Characters that exercise every folding: ASCII letters and digits, separators,
# leetspeak symbols, accents (precomposed and combining), look-alikes, fullwidth,
# zero-width, ß (one letter that folds to two), a no-space script and an emoji.
ALPHABET = (
    "abcdeinostux AEINOSX 0134579 .-_*/,  @$!|+€£(#<"
    "äéñüß\u0301\u0308\u0336 ѕеохаі Ｓｅｘ \u200b\u200d\u00ad 東京 ✅"
)
texts = st.text(alphabet=ALPHABET, max_size=60)
options = st.builds(
    MatchOptions,
    mode=st.sampled_from(["whole_word", "substring"]),
    **{name: st.booleans() for name in FOLDINGS},
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=texts, opts=options)
def test_every_normalised_character_maps_into_the_original_in_order(text, opts):
    norm = normalize(text, opts)
    assert norm.original == text
    previous = 0
    for i in range(len(norm.text)):
        start, end = norm.span(i, i + 1)
        assert 0 <= start < end <= len(text), (i, start, end)
        assert start >= previous or norm.text[i] == READING_MARK or previous == 0, (i, start)
        previous = start


@SETTINGS
@given(
    left=st.text(alphabet="qwz ", max_size=12),
    right=st.text(alphabet="qwz ", max_size=12),
    term=st.sampled_from(["nude", "naked", "suicide", "kill", "coffee"]),
    disguise=st.sampled_from(["NuDe", "nüdë", "nu\u0308de", "ｎｕｄｅ", "nu\u200bde", "ո", "nud3"]),
)
def test_a_match_span_is_exactly_the_disguised_term_in_the_original(left, right, term, disguise):
    variant = {
        "NuDe": term.swapcase(),
        "nüdë": term.replace("e", "ë").replace("u", "ü"),
        "nu\u0308de": term[:1] + "\u0301" + term[1:],
        "ｎｕｄｅ": "".join(chr(ord(c) + 0xFEE0) for c in term),
        "nu\u200bde": term[:2] + "\u200b" + term[2:],
        "ո": term.replace("e", "е").replace("o", "о"),  # Cyrillic е and о
        "nud3": term.replace("e", "3").replace("i", "1"),
    }[disguise]
    text = f"{left} {variant} {right}"
    keyword_set = KeywordSet("k", "t", Action.BLOCK, (term,), (), MatchOptions())
    found = [m.text for m in CompiledKeywordSet(keyword_set).match(text)]
    assert found == [variant], (text, found)


@SETTINGS
@given(text=texts, opts=options)
def test_folding_is_idempotent(text, opts):
    # Separators and one-letter words are left out: joining the letters of
    # "a b c" is a reading of the text, and the joined word's neighbours can
    # change on a second pass ("a b" → "ab" is no longer a split word).
    opts = dataclasses.replace(opts, ignore_separators=False)
    once = normalize_term(text, opts)
    assert normalize_term(once, opts) == once


@SETTINGS
@given(term=st.text(alphabet=ALPHABET, min_size=1, max_size=30), opts=options)
def test_a_term_always_matches_itself(term, opts):
    term = " ".join(term.split())
    key = normalize_term(term, opts).strip()
    if len(key.replace(" ", "")) <= 1:
        return  # terms_clean refuses a term that folds to nothing or one letter
    keyword_set = KeywordSet("k", "t", Action.BLOCK, (term,), (), opts)
    assert CompiledKeywordSet(keyword_set).match(term), (term, key)

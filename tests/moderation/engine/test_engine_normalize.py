"""Normalisation: foldings, separators, invisible characters and spans back to the original."""

import random
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.engine.homoglyphs import HOMOGLYPHS_FILE, homoglyph_table
from moderation.engine.match_options import FOLDINGS
from moderation.engine.normalize import MatchOptions, normalize
from moderation.engine.normalize.separators import SPLIT_WORD_RE, split_words

ALL = MatchOptions()
NOTHING = MatchOptions(**dict.fromkeys(FOLDINGS, False))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ｓｅｘ", "sex"),  # fullwidth, NFKC
        ("SEX", "sex"),
        ("s3x", "sex"),
        ("ѕех", "sex"),  # Cyrillic dze, ie, ha
        ("s.e.x", "sex"),
        ("s e x", "sex"),
        ("s-e-x", "sex"),
        ("s_e_x", "sex"),
        ("s . e . x", "sex"),
        ("se\u200bx", "sex"),  # zero-width space
        ("s\u00adex", "sex"),  # soft hyphen
        ("$ex", "sex"),
        ("h!gh", "high"),
        ("ki11", "kiii"),  # 1 and l share the i class
        ("kill", "kiii"),
        ("Straße", "strasse"),
        ("ﬁne", "fine"),
        ("𝐬𝐞𝐱", "sex"),  # mathematical bold
    ],
)
def test_evasions_fold_to_the_plain_word(text, expected):
    assert normalize(text, ALL).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sex!", "sex!"),  # a trailing symbol is punctuation, not leetspeak
        ("e.g. this", "e.g. this"),  # two single letters are not a split word
        ("hello world", "heiio worid"),
    ],
)
def test_ordinary_text_is_left_alone(text, expected):
    assert normalize(text, ALL).text == expected


def test_commas_join_letters_only_with_any_separators():
    assert normalize("a, b, c", MatchOptions(any_separators=False)).text == "a, b, c"
    assert normalize("a, b, c", ALL).text == "abc"


def test_options_off_leave_text_unchanged():
    text = "ＳЕＸ s.e.x s3x"
    assert normalize(text, NOTHING).text == text


@pytest.mark.parametrize(
    ("text", "needle", "original"),
    [
        ("buy ｓｅｘ now", "sex", "ｓｅｘ"),
        ("x ѕех y", "sex", "ѕех"),
        ("the s.e.x tape", "sex", "s.e.x"),
        ("a se\u200bx b", "sex", "se\u200bx"),
        ("Straße sex", "sex", "sex"),
        ("ﬁne wine", "wine", "wine"),
        ("e\u0301clair sex", "sex", "sex"),  # combining acute before the match
        ("日本語 s3x", "sex", "s3x"),
    ],
)
def test_spans_map_back_to_the_original(text, needle, original):
    norm = normalize(text, ALL)
    start = norm.text.index(needle)
    a, b = norm.span(start, start + len(needle))
    assert text[a:b] == original


def test_expansion_maps_every_output_character_to_its_source():
    norm = normalize("aßb", MatchOptions(squeeze_repeats=False))
    assert norm.text == "assb"
    assert [norm.span(i, i + 1) for i in range(4)] == [(0, 1), (1, 2), (1, 2), (2, 3)]


def test_homoglyph_table_comes_from_the_confusables_data():
    table = homoglyph_table()
    assert len(table) > 1000
    looks = "ѕехЅοΟ"
    assert [table[ord(c)] for c in looks] == list("sexsoo")
    assert ord("0") not in table  # ASCII digits are left for leetspeak
    # Armenian "օ" and Cherokee "Ꭺ" look like o and A, but are letters of their own
    # languages: the subset is Latin, Cyrillic, Greek and Common.
    assert ord("\u0585") not in table
    assert ord("\u13aa") not in table


def test_committed_homoglyph_file_is_what_the_script_generates():
    script = runpy.run_path(str(Path(__file__).parents[3] / "scripts/generate_homoglyphs.py"))
    assert HOMOGLYPHS_FILE.read_text(encoding="utf-8") == script["render"](), (
        "run scripts/generate_homoglyphs.py and commit moderation/engine/data/homoglyphs.tsv"
    )


def test_the_engine_reads_the_data_file_without_the_library():
    code = (
        "import sys; sys.modules['confusable_homoglyphs'] = None\n"
        "from moderation.engine.normalize import MatchOptions, normalize\n"
        "print(normalize('\u0455\u0435\u0445', MatchOptions()).text)"
    )
    root = Path(__file__).parents[3]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.stdout.strip() == "sex", done.stderr


def test_non_ascii_digits_keep_their_value():
    assert normalize("٣", MatchOptions(leetspeak=False)).text == "3"


@pytest.mark.parametrize("alphabet", ["ab ._-·東\u0301?x", "a .", "ab. ?", "a.\u3000東x-_"])
def test_split_word_prefilter_finds_what_the_full_pattern_finds(alphabet):
    rng = random.Random(alphabet)
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        fast = [m.span() for m in split_words(text)]
        assert fast == [m.span() for m in SPLIT_WORD_RE.finditer(text)], text


def test_long_mixed_text_keeps_spans_like_a_short_one():
    piece = "ok ｓｅｘ and ѕех, e\u0301 日本 "
    text = piece * 400  # long enough for the numpy path
    norm = normalize(text, ALL)
    assert norm.text == normalize(piece, ALL).text * 400
    last = norm.text.rindex("sex")
    a, b = norm.span(last, last + 3)
    assert text[a:b] == "ѕех"

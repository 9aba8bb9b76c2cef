"""MatchOptions declares every option once, with what an interface shows of it."""

import dataclasses

import pytest

from moderation.engine.bundle import bundle_from_dict, bundle_to_dict
from moderation.engine.errors import BundleError
from moderation.engine.match_options import (
    FOLDINGS,
    MATCH_MODES,
    OPTION_NAMES,
    OPTION_SPECS,
    MatchOptions,
    OptionSpec,
)


def test_specs_are_the_dataclass_fields_in_order_with_their_defaults():
    fields = dataclasses.fields(MatchOptions)
    assert tuple(f.name for f in fields) == OPTION_NAMES
    assert [s.default for s in OPTION_SPECS] == [f.default for f in fields]
    assert all(s.label and s.help for s in OPTION_SPECS)


def test_the_mode_is_the_choice_and_every_other_option_a_folding():
    (mode,) = [s for s in OPTION_SPECS if s.choices]
    assert mode.name == "mode"
    assert mode.choices == MATCH_MODES
    assert FOLDINGS == (
        "casefold",
        "nfkc",
        "leetspeak",
        "homoglyphs",
        "ignore_separators",
        "any_separators",
        "one_letter_words",
        "accents",
        "leet_symbols",
        "squeeze_repeats",
    )
    assert all(s.summary for s in OPTION_SPECS if s.name in FOLDINGS)


def test_fold_key_follows_the_foldings_not_the_mode():
    options = MatchOptions(mode="substring", leetspeak=False)
    assert options.fold_key() == (True, True, False, True, True, True, True, True, True, False)
    assert options.fold_key() == MatchOptions(leetspeak=False).fold_key()


@pytest.mark.parametrize(
    ("options", "summary"),
    [
        (MatchOptions(), "Whole word · any case · NFKC · leetspeak · look-alikes · separators"
         " · any separators · one-letter words · accents · symbols"),
        (MatchOptions(mode="substring", nfkc=False, homoglyphs=False), "Substring · any case · "
         "leetspeak · separators · any separators · one-letter words · accents · symbols"),
        (MatchOptions(**dict.fromkeys(FOLDINGS, False)), "Whole word"),
    ],
)  # fmt: skip
def test_summary_names_the_mode_and_the_foldings_that_are_on(options, summary):
    assert options.summary() == summary


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"default": "fuzzy", "choices": MATCH_MODES}, "not one of its choices"),
        ({"default": 3}, "a choice .* or a boolean"),
    ],
)
def test_an_option_an_interface_cannot_show_is_refused(kwargs, message):
    with pytest.raises(TypeError, match=message):
        OptionSpec(name="x", label="X", help="x", **kwargs)


def test_the_codec_reads_and_writes_every_option(bundle):
    data = bundle_to_dict(bundle)
    # Every option but a later one at its `absent` value (left out, see the codec).
    for ks in data["keyword_sets"]:
        assert tuple(ks["options"]) == tuple(
            s.name for s in OPTION_SPECS if s.absent is None or s.default != s.absent
        )
    data["keyword_sets"][0]["options"]["squeeze_repeats"] = True
    assert bundle_from_dict(data).keyword_sets[0].options.squeeze_repeats is True
    data["keyword_sets"][0]["options"]["leetspeak"] = "yes"
    with pytest.raises(BundleError, match=r"options\.leetspeak.*true or false"):
        bundle_from_dict(data)

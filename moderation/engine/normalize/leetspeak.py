"""Leetspeak: digits fold to letters with the other per-character foldings (see
tables.py); symbols fold last, and only inside words."""

from __future__ import annotations

import functools
import re

from moderation.engine.match_options import MatchOptions

# Leetspeak digits fold to letters. '1' is ambiguous (i or l): rather than
# guess, 'l' and '1' both fold to 'i' in the text and in the terms alike, so
# "ki11", "kill" and "kiii" all read "kiii". '2' and '6' are left alone: they
# stand for letters too rarely to be worth the false matches in numbers.
LEET_CHARS = {
    "0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
}  # fmt: skip
# Symbols fold only when a letter or digit follows, so "sex!" stays "sex!"
# while "$ex" and "h!gh" read "sex" and "high".
LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "i", "+": "t"}


# More symbols (the `leet_symbols` option). Currency and letter-like signs
# fold where a letter or digit follows, as above ("n@k€d", "£ick"); brackets,
# '#' only inside a word ("su(k"), so "(sex)" and "#sex" keep their word.
MORE_LEET_SYMBOLS = {
    "€": "e", "£": "i", "¥": "y", "¢": "c", "§": "s", "¡": "i", "©": "c", "®": "r",
    "(": "c", "<": "c", "[": "c", "{": "c", "#": "h",
}  # fmt: skip
_INSIDE_WORDS = "(<[{#"


@functools.cache
def ascii_symbols(leetspeak: bool, leet_symbols: bool) -> bytes:
    """Return the ASCII leetspeak symbols the options fold, as bytes."""
    symbols = (LEET_SYMBOLS if leetspeak else {}).keys() | (
        MORE_LEET_SYMBOLS if leet_symbols else {}
    ).keys()
    return "".join(sorted(c for c in symbols if c.isascii())).encode("ascii")


def has_symbols(raw: bytes, options: MatchOptions) -> bool:
    """Return whether folded ASCII bytes hold a leetspeak symbol that may need folding."""
    symbols = ascii_symbols(options.leetspeak, options.leet_symbols)
    # Deleting them is one C-level pass, ten times faster than a regex search.
    return bool(symbols) and len(raw.translate(None, symbols)) != len(raw)


# A run of symbols longer than this is not a disguised word: it is left as it is.
MAX_SYMBOL_RUN = 32


@functools.cache
def _run_re(base: bool, more: bool) -> re.Pattern[str]:
    symbols = (LEET_SYMBOLS if base else {}) | (MORE_LEET_SYMBOLS if more else {})
    return re.compile("[" + re.escape("".join(symbols)) + "]+")


def fold_leet_symbols(text: str, *, base: bool, more: bool) -> str:
    """Return `text` with its leetspeak symbols folded where their rules say.

    LEET_SYMBOLS (`base`) and the before-letter MORE_LEET_SYMBOLS fold where a
    letter or digit follows; the inside-word ones (brackets, '#') where one is
    on both sides. A symbol next to another symbol that folds counts as next to
    a letter ("su!¢ide", "su!(!de" and "@+0" read "suicide", "suicide" and
    "ato"): a run of symbols is folded whole, as the rules reach a fixpoint, so
    folding the result again changes nothing.
    """
    # The `in` tests are C-level scans, much faster than the regex on long texts.
    if not any(symbol in text for symbol in _symbols(base, more)):
        return text
    return _run_re(base, more).sub(lambda run: _fold_run(run, text), text)


@functools.cache
def _symbols(base: bool, more: bool) -> tuple[str, ...]:
    # Made once: building the set on every call cost a third of a short prompt's check.
    return tuple((LEET_SYMBOLS if base else {}).keys() | (MORE_LEET_SYMBOLS if more else {}).keys())


def _fold_run(run: re.Match[str], text: str) -> str:
    symbols, end = run.group(), run.end()
    if end == len(text) or not text[end].isalnum() or len(symbols) > MAX_SYMBOL_RUN:
        return symbols  # nothing after the run reads as a letter
    if run.start() == 0 or not text[run.start() - 1].isalnum():
        # At the start of a word: its leading brackets and '#' stay ("(sex)",
        # "#sex", "(@ck"); from the first symbol that reads a letter the word
        # has begun, and the rest of the run folds with it ("€($+@sy").
        lead = len(symbols) - len(symbols.lstrip(_INSIDE_WORDS))
        return symbols[:lead] + "".join(map(_letter, symbols[lead:]))
    return "".join(map(_letter, symbols))


def _letter(char: str) -> str:
    return LEET_SYMBOLS.get(char) or MORE_LEET_SYMBOLS[char]

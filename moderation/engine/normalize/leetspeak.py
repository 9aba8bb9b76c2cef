"""Leetspeak: digits fold to letters with the other per-character foldings (see
tables.py); symbols fold last, and only inside words."""

from __future__ import annotations

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
_SYMBOL_RE = re.compile(r"[@$!|+](?=[^\W_])")


# More symbols (the `leet_symbols` option). Currency and letter-like signs
# fold where a letter or digit follows, as above ("n@k€d", "£ick"); brackets,
# '#' only inside a word ("su(k"), so "(sex)" and "#sex" keep their word.
MORE_LEET_SYMBOLS = {
    "€": "e", "£": "i", "¥": "y", "¢": "c", "§": "s", "¡": "i", "©": "c", "®": "r",
    "(": "c", "<": "c", "[": "c", "{": "c", "#": "h",
}  # fmt: skip
_BEFORE_LETTERS = "€£¥¢§¡©®"
_INSIDE_WORDS = "(<[{#"
_MORE_SYMBOL_RE = re.compile(
    rf"[{_BEFORE_LETTERS}](?=[^\W_])|(?<=[^\W_])[{re.escape(_INSIDE_WORDS)}](?=[^\W_])"
)
_ASCII_MORE_RE = re.compile(
    b"[" + re.escape("".join(c for c in MORE_LEET_SYMBOLS if c.isascii())).encode() + b"]"
)


def has_symbols(raw: bytes, options: MatchOptions) -> bool:
    """Return whether folded ASCII bytes hold a leetspeak symbol that may need folding."""
    if options.leet_symbols and _ASCII_MORE_RE.search(raw) is not None:
        return True
    return options.leetspeak and (
        b"@" in raw or b"$" in raw or b"!" in raw or b"|" in raw or b"+" in raw
    )


def fold_more_symbols(text: str) -> str:
    """Return `text` with each of MORE_LEET_SYMBOLS folded where its rule says."""
    if not any(symbol in text for symbol in MORE_LEET_SYMBOLS):
        return text
    return _MORE_SYMBOL_RE.sub(lambda m: MORE_LEET_SYMBOLS[m.group()], text)


def fold_symbols(text: str) -> str:
    """Return `text` with each leetspeak symbol that a letter or digit follows folded."""
    # The `in` tests are C-level scans, much faster than the regex on long texts.
    if not any(symbol in text for symbol in LEET_SYMBOLS) or _SYMBOL_RE.search(text) is None:
        return text
    return _SYMBOL_RE.sub(lambda m: LEET_SYMBOLS[m.group()], text)

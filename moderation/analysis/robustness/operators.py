"""Seeded evasion operators: each rewrites a term as an attacker would, to test a keyword set.

An operator returns None when it cannot change the term (no letter it can
replace, or a multi-word term for the operators that split letters). Each
names the match options that should catch it: a keyword set with one of them
off is not expected to, and the report says so.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from random import Random

from moderation.engine.homoglyphs import homoglyph_table

ACCENT_MARKS = "\u0301\u0300\u0308\u0302\u0303\u030a\u0327\u0304\u030c"
LEET_DIGITS = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "b": "8", "g": "9"}
# Symbols as the leetspeak tables read them: before a letter, or inside a word.
LEET_BEFORE = {"a": "@", "s": "$", "i": "!", "t": "+", "e": "€", "y": "¥", "c": "¢"}
LEET_INSIDE = {"c": "(", "h": "#"}
SEPARATORS = ".- "
MIXED_SEPARATORS = "*_/.,-~:; "
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


@dataclass(frozen=True)
class Operator:
    """One way of disguising a term, and the match options that undo it."""

    name: str
    label: str
    options: tuple[str, ...]
    rewrite: Callable[[str, Random], str | None]
    example: str


def clusters(text: str) -> list[str]:
    """Split `text` into base characters, each with the combining marks after it."""
    found: list[str] = []
    for char in text:
        if found and unicodedata.combining(char):
            found[-1] += char
        else:
            found.append(char)
    return found


def _some(positions: list[int], rng: Random) -> list[int]:
    """A non-empty random subset of `positions` (empty when there are none)."""
    if not positions:
        return []
    return rng.sample(positions, rng.randint(1, len(positions)))


def _substitute(term: str, rng: Random, table: Callable[[str, int, list[str]], str | None]):
    parts = clusters(term)
    # Each replacement is decided on the term as written, not on one half rewritten.
    replaced = {i: table(part, i, parts) for i, part in enumerate(parts)}
    chosen = _some([i for i, new in replaced.items() if new is not None], rng)
    if not chosen:
        return None
    return "".join(replaced[i] if i in chosen else part for i, part in enumerate(parts))


def case(term: str, rng: Random) -> str | None:
    letters = [i for i, c in enumerate(term) if c.isalpha() and c.swapcase() != c]
    if not letters:
        return None
    chosen = set(_some(letters, rng))
    return "".join(c.swapcase() if i in chosen else c for i, c in enumerate(term))


def accents(term: str, rng: Random) -> str | None:
    def mark(part: str, _i: int, _parts: list[str]) -> str | None:
        if not (part.isascii() and part.isalpha()):
            return None
        marked = part + rng.choice(ACCENT_MARKS)
        # Precomposed (ü) or decomposed (u + ¨): both are written.
        return unicodedata.normalize("NFC", marked) if rng.random() < 0.5 else marked

    return _substitute(term, rng, mark)


def squeeze(term: str, rng: Random) -> str | None:
    parts = clusters(term)
    letters = [i for i, part in enumerate(parts) if part[0].isalpha()]
    if not letters:
        return None
    for i in _some(letters, rng)[:2]:
        parts[i] = parts[i] * rng.randint(3, 5)
    return "".join(parts)


def leetspeak(term: str, rng: Random) -> str | None:
    return _substitute(term, rng, lambda part, _i, _p: LEET_DIGITS.get(part.lower()))


def leet_symbols(term: str, rng: Random) -> str | None:
    def symbol(part: str, i: int, parts: list[str]) -> str | None:
        letter = part.lower()
        follows = i + 1 < len(parts) and parts[i + 1][0].isalnum()
        inside = i > 0 and parts[i - 1][0].isalnum() and follows
        if letter in LEET_INSIDE and inside:
            return LEET_INSIDE[letter]
        return LEET_BEFORE.get(letter) if follows else None

    return _substitute(term, rng, symbol)


@functools.cache
def _look_alikes() -> dict[str, tuple[str, ...]]:
    """Each ASCII letter's Cyrillic and Greek look-alikes, from the engine's own table."""
    found: dict[str, list[str]] = {}
    for code, target in homoglyph_table().items():
        name = unicodedata.name(chr(code), "")
        if target.isalpha() and name.startswith(("CYRILLIC", "GREEK")):
            found.setdefault(target, []).append(chr(code))
    return {letter: tuple(sorted(chars)) for letter, chars in found.items()}


def homoglyphs(term: str, rng: Random) -> str | None:
    def swap(part: str, _i: int, _parts: list[str]) -> str | None:
        choices = _look_alikes().get(part.lower()) if part.isascii() else None
        return rng.choice(choices) if choices else None

    return _substitute(term, rng, swap)


def fullwidth(term: str, rng: Random) -> str | None:
    def wide(part: str, _i: int, _parts: list[str]) -> str | None:
        return chr(ord(part) + 0xFEE0) if len(part) == 1 and "!" <= part <= "~" else None

    return _substitute(term, rng, wide)


def zero_width(term: str, rng: Random) -> str | None:
    parts = clusters(term)
    if len(parts) < 2:
        return None
    gaps = rng.sample(range(1, len(parts)), rng.randint(1, len(parts) - 1))
    for gap in sorted(gaps, reverse=True):
        parts.insert(gap, rng.choice(ZERO_WIDTH))
    return "".join(parts)


def _split(term: str, gap: Callable[[], str]) -> str | None:
    parts = clusters(term)
    if " " in term or len(parts) < 2:
        return None  # only a single word's letters are split
    return "".join(part + gap() for part in parts[:-1]) + parts[-1]


def separators(term: str, rng: Random) -> str | None:
    separator = rng.choice(SEPARATORS)
    return _split(term, lambda: separator)


def mixed_separators(term: str, rng: Random) -> str | None:
    return _split(term, lambda: "".join(rng.choices(MIXED_SEPARATORS, k=rng.randint(1, 2))))


def one_letter_word(term: str, rng: Random) -> str | None:
    separator = rng.choice(". ")
    split = _split(term, lambda: separator)
    return None if split is None else f"{rng.choice('aI')} {split}"


OPERATORS: tuple[Operator, ...] = (
    Operator("case", "Letter case", ("casefold",), case, "NuDe"),
    Operator("accents", "Accents and combining marks", ("accents",), accents, "nüdë"),
    Operator("leetspeak", "Leetspeak digits", ("leetspeak",), leetspeak, "nud3"),
    Operator(
        "leet_symbols", "Leetspeak symbols", ("leetspeak", "leet_symbols"), leet_symbols, "n@k€d"
    ),
    Operator("homoglyphs", "Look-alike letters", ("homoglyphs",), homoglyphs, "nudе (Cyrillic е)"),
    Operator("fullwidth", "Fullwidth letters", ("nfkc",), fullwidth, "ｎｕｄｅ"),
    Operator("zero_width", "Zero-width characters", (), zero_width, "nu\u200bde"),
    Operator("squeeze_repeats", "Repeated letters", ("squeeze_repeats",), squeeze, "nuuude"),
    Operator("separators", "Separators", ("ignore_separators",), separators, "n.u.d.e"),
    Operator(
        "mixed_separators",
        "Mixed separators",
        ("ignore_separators", "any_separators"),
        mixed_separators,
        "n*u_d/e",
    ),
    Operator(
        "one_letter_word",
        "After a one-letter word",
        ("ignore_separators", "one_letter_words"),
        one_letter_word,
        "a n.u.d.e",
    ),
)


def _then(first: Operator, second: Operator) -> Callable[[str, Random], str | None]:
    def rewrite(term: str, rng: Random) -> str | None:
        once = first.rewrite(term, rng)
        return None if once is None else second.rewrite(once, rng)

    return rewrite


def combinations() -> tuple[Operator, ...]:
    """Every pair of operators, applied in the order of OPERATORS (letters before splits)."""
    return tuple(
        Operator(
            f"{a.name}+{b.name}",
            f"{a.label} + {b.label.lower()}",
            tuple(dict.fromkeys(a.options + b.options)),
            _then(a, b),
            "",
        )
        for a, b in itertools.combinations(OPERATORS, 2)
    )

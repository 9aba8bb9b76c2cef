"""Character tables for folding look-alike characters, built once from real data.

The homoglyph table comes from the `confusable_homoglyphs` package (Unicode's
confusables.txt). Each non-ASCII character that looks like an ASCII letter or
digit maps to that ASCII character, lower-cased: Cyrillic 'ѕ', 'е', 'х' fold
to 's', 'e', 'x'. ASCII characters are never remapped here, so digits stay
digits and leetspeak folding decides what they mean.
"""

from __future__ import annotations

import functools
import unicodedata

from confusable_homoglyphs.confusables import confusables_data

# Bidi marks wrap right-to-left glyphs in the data file; they are not part of
# the glyph itself.
_BIDI_MARKS = "\u200e\u200f"


def _ascii_targets(entries: list[dict[str, str]]) -> set[str]:
    targets = set()
    for entry in entries:
        glyph = entry["c"].strip(_BIDI_MARKS)
        if len(glyph) == 1 and glyph.isascii() and glyph.isalnum():
            targets.add(glyph.lower())
    return targets


def _pick(char: str, targets: set[str]) -> str | None:
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        # A non-ASCII digit means its value, whatever letter it resembles.
        return str(digit)
    letters = sorted(t for t in targets if t.isalpha())
    if letters:
        # Several letters (Greek iota looks like both 'i' and 'l'): the first
        # in alphabetical order, so the table is deterministic.
        return letters[0]
    digits = sorted(targets)
    return digits[0] if digits else None


@functools.cache
def homoglyph_table() -> dict[int, str]:
    """Return a str.translate table folding non-ASCII look-alikes to lower-case ASCII."""
    table: dict[int, str] = {}
    for key, entries in confusables_data.items():
        char = key.strip(_BIDI_MARKS)
        if len(char) != 1 or char.isascii():
            continue
        target = _pick(char, _ascii_targets(entries))
        if target is None:
            continue
        table.setdefault(ord(char), target)
        folded = char.casefold()
        if len(folded) == 1 and not folded.isascii():
            table.setdefault(ord(folded), target)
    return table


# Planes that hold format characters: BMP, SMP, and the tag block (U+E0000..)
# used to smuggle invisible text.
_FORMAT_RANGES = (range(0, 0x20000), range(0xE0000, 0xE1000))


@functools.cache
def invisible_chars() -> frozenset[str]:
    """Return every format character (Unicode category Cf): zero-width, bidi, tags, soft hyphen."""
    found = set()
    for block in _FORMAT_RANGES:
        for code in block:
            if unicodedata.category(chr(code)) == "Cf":
                found.add(chr(code))
    return frozenset(found)

"""The per-character foldings as translation tables: case and leetspeak digits for
ASCII; invisible characters, homoglyphs and leetspeak digits for the rest."""

from __future__ import annotations

import functools

from moderation.engine.homoglyphs import homoglyph_table, invisible_chars
from moderation.engine.normalize.leetspeak import LEET_CHARS

# Invisible characters that are not Unicode format characters: the combining
# grapheme joiner and the variation selectors.
_EXTRA_INVISIBLE = "\u034f" + "".join(chr(c) for c in range(0xFE00, 0xFE10))
# The combining marks accent folding strips: the diacritics blocks (accents,
# and the marks stacked on letters to disguise them). Marks of other blocks
# (Devanagari vowel signs, Hebrew points, Hangul jamo) carry the letters of
# their scripts, and stay.
_DIACRITIC_BLOCKS = (
    range(0x0300, 0x0370), range(0x1AB0, 0x1B00), range(0x1DC0, 0x1E00),
    range(0x20D0, 0x2100), range(0xFE20, 0xFE30),
)  # fmt: skip
ACCENT_MARKS: dict[int, None] = {code: None for block in _DIACRITIC_BLOCKS for code in block}


@functools.cache
def ascii_table(casefold: bool, leetspeak: bool) -> dict[int, str]:
    """Return what each ASCII character that folds folds to, as a str.translate table."""
    table = {}
    for code in range(128):
        char = chr(code).lower() if casefold else chr(code)
        if leetspeak:
            char = LEET_CHARS.get(char, char)
        if char != chr(code):
            table[code] = char
    return table


@functools.cache
def ascii_bytes(casefold: bool, leetspeak: bool) -> bytes:
    """Return ascii_table as a bytes.translate table (bytes above 127 are left alone)."""
    table = ascii_table(casefold, leetspeak)
    return bytes(ord(table.get(i, chr(i))) if i < 128 else i for i in range(256))


@functools.cache
def char_table(homoglyphs: bool, leetspeak: bool) -> dict[int, str | None]:
    """Return the str.translate table that drops invisible characters and folds homoglyphs
    and leetspeak digits, as the options ask."""
    table: dict[int, str | None] = {ord(c): None for c in invisible_chars()}
    table.update({ord(c): None for c in _EXTRA_INVISIBLE})
    if homoglyphs:
        table.update(homoglyph_table())
    if leetspeak:
        table.update({ord(k): v for k, v in LEET_CHARS.items()})
    return table

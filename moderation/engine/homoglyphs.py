"""Character tables for folding look-alike characters, built once from real data.

The homoglyph table is data/homoglyphs.tsv, generated from Unicode's
confusables data (the `confusable_homoglyphs` package) by
scripts/generate_homoglyphs.py, which documents the subset: each Latin,
Cyrillic, Greek or Common character that looks like an ASCII letter or digit
maps to that ASCII character, lower-cased (Cyrillic 'ѕ', 'е', 'х' fold to 's',
'e', 'x'), and a decimal digit of any script to its value. ASCII characters are
never remapped here, so digits stay digits and leetspeak folding decides what
they mean. The engine reads the file; it does not import the library.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

HOMOGLYPHS_FILE = Path(__file__).resolve().parent / "data" / "homoglyphs.tsv"


@functools.cache
def homoglyph_table() -> dict[int, str]:
    """Return a str.translate table folding non-ASCII look-alikes to lower-case ASCII."""
    table: dict[int, str] = {}
    with HOMOGLYPHS_FILE.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            code, target, _name = line.split("\t", 2)
            table[int(code[2:], 16)] = target
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

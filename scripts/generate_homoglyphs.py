#!/usr/bin/env python
"""Write moderation/engine/data/homoglyphs.tsv from Unicode's confusables data.

The data comes from the `confusable_homoglyphs` package (pinned in
requirements.txt), which ships Unicode's confusables.txt and the script of each
code point. The table is the documented subset the engine folds:

- characters of the Latin, Cyrillic and Greek scripts, and of the Common and
  Inherited scripts (letter-like symbols, mathematical letters), that look
  like one ASCII letter or digit: Cyrillic 'ѕ' -> 's', Greek 'ο' -> 'o';
- decimal digits of any script, which fold to their value ('٣' -> '3');
- each such character's case-folded form too, when it is a single non-ASCII
  character ('Ѕ' and 'ѕ' both -> 's');
- never an ASCII character: digits stay digits, and leetspeak folding decides
  what they mean.

Letters of other scripts (Cherokee, Armenian, Hebrew, Devanagari...) are left
out: folding them to ASCII would make ordinary text in those languages match
English terms.

Run it after upgrading confusable-homoglyphs, and commit the file:

    python scripts/generate_homoglyphs.py            # rewrite the file
    python scripts/generate_homoglyphs.py --check    # exit 1 when it is stale
"""

from __future__ import annotations

import sys
import unicodedata
from importlib.metadata import version
from pathlib import Path

from confusable_homoglyphs import categories
from confusable_homoglyphs.confusables import confusables_data

TARGET = Path(__file__).resolve().parent.parent / "moderation/engine/data/homoglyphs.tsv"
SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "COMMON", "INHERITED")
# Bidi marks wrap right-to-left glyphs in the data file; they are not part of the glyph.
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
    if categories.alias(char) not in SCRIPTS:
        return None
    letters = sorted(t for t in targets if t.isalpha())
    if letters:
        # Several letters (Greek iota looks like both 'i' and 'l'): the first
        # in alphabetical order, so the table is deterministic.
        return letters[0]
    digits = sorted(targets)
    return digits[0] if digits else None


def table() -> dict[str, str]:
    """Each non-ASCII character the engine folds, and the lower-case ASCII it folds to."""
    found: dict[str, str] = {}
    for key, entries in confusables_data.items():
        char = key.strip(_BIDI_MARKS)
        if len(char) != 1 or char.isascii():
            continue
        target = _pick(char, _ascii_targets(entries))
        if target is None:
            continue
        found.setdefault(char, target)
        folded = char.casefold()
        if len(folded) == 1 and not folded.isascii():
            found.setdefault(folded, target)
    return found


def render() -> str:
    """The data file's text: a header, then one `U+XXXX<TAB>target<TAB>name` line a character."""
    lines = [
        "# Homoglyphs the keyword engine folds: written by scripts/generate_homoglyphs.py",
        f"# from Unicode's confusables data in confusable-homoglyphs "
        f"{version('confusable-homoglyphs')}; do not edit.",
        f"# Scripts: {', '.join(SCRIPTS)}; and decimal digits of any script, to their value.",
        "# code point<TAB>folds to<TAB>character name",
    ]
    for char, target in sorted(table().items()):
        name = unicodedata.name(char, "")
        lines.append(f"U+{ord(char):04X}\t{target}\t{name}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is stale: run scripts/generate_homoglyphs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({text.count(chr(10)) - 4} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

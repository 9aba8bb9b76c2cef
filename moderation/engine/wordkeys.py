"""Whole-word matching inside the automaton: keys carry word-boundary markers.

A raw Aho-Corasick hit of a short term inside a longer word ("cat" in
"concatenate") costs a Python-level boundary check, and such hits outnumber
real whole-word matches about 15 to 1 on ordinary prompts. Here the boundary
test happens inside the automaton instead:

- the text is rewritten one character for one: every character that is not a
  word character of a spaced script (see `needs_boundary`) becomes MARK, and
  one MARK is added before and after the text; for ASCII text that is one
  `bytes.translate`;
- each key is rewritten the same way, with one MARK added at each edge that
  needs a word boundary: "sex" becomes MARK "sex" MARK, which occurs in the
  rewritten text exactly where "sex" stands as a whole word.

The rewrite forgets which non-word character stood where, so a key holding
one ("sex toys", "(sex)") is checked against the normalised text on each hit
(hits of such keys are rare: the automaton has already placed the word
characters and the boundaries), and keys that rewrite alike ("sex toys",
"sex-toys") share one automaton entry. Keys holding characters of scripts
written without spaces (Han, Kana, Thai...) stay with the plain automaton and
its per-hit checks; those characters rewrite to MARK in the text, so they
still count as a boundary next to a Latin term ("看av" holds the word "av").
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

import ahocorasick
import numpy as np

MARK = "\x01"
NO_SPACE_SCRIPTS = re.compile(
    "["
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\U00020000-\U0003ffff"  # CJK extensions B and later
    "]"
)
# Non-ASCII texts shorter than this are marked with a regex, longer ones with numpy.
MARK_WITH_REGEX_BELOW = 4096
_WORD_LOOKUP = np.array([chr(i).isalnum() for i in range(128)], dtype=bool)
_WORD_BYTES = bytes(int(chr(i).isalnum()) if i < 128 else 0 for i in range(256))
MARK_BYTES = bytes(i if chr(i).isalnum() or i > 127 else ord(MARK) for i in range(256))


def is_word_char(char: str) -> bool:
    """Return whether `char` is a letter, digit or combining mark."""
    return char.isalnum() or (char >= "\u0300" and unicodedata.category(char)[0] == "M")


def needs_boundary(char: str) -> bool:
    """Return whether `char` is a word character of a script that separates words."""
    if char.isascii():
        return char.isalnum()
    return is_word_char(char) and NO_SPACE_SCRIPTS.match(char) is None


def word_chars(text: str) -> np.ndarray:
    """Return, per character of `text`, whether it is a word character of a spaced script."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii").translate(_WORD_BYTES), dtype=bool)
    return _word_codes(_codes(text))


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


class _WordTable:
    """`needs_boundary` per code point, computed the first time a code point is seen."""

    def __init__(self) -> None:
        self.known = np.zeros(0x110000, dtype=bool)
        self.known[:128] = True
        self.word = np.zeros(0x110000, dtype=bool)
        self.word[:128] = _WORD_LOOKUP

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        if not self.known[codes].all():
            new = np.unique(codes[~self.known[codes]]).tolist()
            self.word[new] = [needs_boundary(chr(c)) for c in new]
            self.known[new] = True
        return self.word[codes]


_word_codes = _WordTable()


@functools.cache
def _non_word_re() -> re.Pattern[str]:
    """Return a pattern matching one non-ASCII character for which needs_boundary is false."""
    # Basic plane: one character class of the word characters, as ranges.
    words = [c for c in range(0x80, 0x10000) if needs_boundary(chr(c))]
    ranges, start = [], words[0]
    for prev, code in itertools.pairwise([*words, -1]):
        if code != prev + 1:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
            start = code
    # Other planes (rare): the rule itself; \w is str.isalnum() plus '_'.
    marks = "".join(
        re.escape(chr(c))
        for block in (range(0x10000, 0x20000), range(0xE0000, 0xE1000))
        for c in block
        if unicodedata.category(chr(c))[0] == "M"
    )
    # The leading class lets the regex skip ASCII quickly; the lookbehinds
    # then test the non-ASCII character just matched.
    astral = (
        f"(?<=[\U00010000-\U0010ffff])(?:(?<={NO_SPACE_SCRIPTS.pattern})|(?<![{marks}])(?<=\\W))"
    )
    basic = f"(?<=[^{''.join(ranges)}\U00010000-\U0010ffff])"
    return re.compile(f"[^\x00-\x7f](?:{basic}|{astral})")


def marked_text(text: str) -> str:
    """Return `text` with every character that is not a spaced-script word character as MARK,
    and MARK before and after it."""
    if text.isascii():
        return MARK + text.encode("ascii").translate(MARK_BYTES).decode("ascii") + MARK
    if len(text) < MARK_WITH_REGEX_BELOW:
        # ASCII characters as bytes (UTF-8 leaves them single bytes), then the
        # regex marks the non-ASCII ones; numpy's fixed costs are higher here.
        raw = text.encode("utf-8", "surrogatepass").translate(MARK_BYTES)
        return MARK + _non_word_re().sub(MARK, raw.decode("utf-8", "surrogatepass")) + MARK
    codes = _codes(text)
    marked = np.where(_word_codes(codes), codes, np.uint32(ord(MARK)))
    return MARK + marked.tobytes().decode("utf-32-le", "surrogatepass") + MARK


def markable(key: str) -> bool:
    """Return whether a whole-word key can live in the boundary-marked automaton."""
    return NO_SPACE_SCRIPTS.search(key) is None


class BoundaryAutomaton:
    """Whole-word keys with boundary markers in one automaton; hits are whole-word matches."""

    def __init__(self) -> None:
        self.automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        self._groups: dict[str, list[tuple]] = {}
        self.entries: list[tuple] = []

    def add(self, key: str, term: int, allow: int) -> None:
        """Add a normalised key (markable) with its term and allow-list indices (-1: none)."""
        if key.isascii():
            body = key.encode("ascii").translate(MARK_BYTES).decode("ascii")
        else:
            body = "".join(c if needs_boundary(c) else MARK for c in key)
        head, tail = needs_boundary(key[0]), needs_boundary(key[-1])
        marked = MARK * head + body + MARK * tail
        # The key's first character sits `offset` places before the hit's end in
        # the marked text, which is one place ahead of the normalised text.
        offset = len(marked) - head
        check = key if body != key else None
        self._groups.setdefault(marked, []).append((offset, len(key), check, term, allow))

    def make(self) -> None:
        """Build the automaton once every key is added."""
        for index, (marked, group) in enumerate(self._groups.items()):
            self.entries.append(tuple(group))
            self.automaton.add_word(marked, index)
        self.automaton.make_automaton()
        self._groups = {}
        _non_word_re()  # built once per process (0.1 s), here rather than on a first prompt

    def scan(self, text: str, hits: list, allowed: list, marked: str | None = None) -> None:
        """Append (start, end, term) whole-word hits and (start, end) allow-list spans of the
        normalised `text` (`marked`: its marked_text, when the caller has it)."""
        self.scan_marked(marked_text(text) if marked is None else marked, hits, allowed, text)

    def scan_marked(self, marked: str, hits: list, allowed: list, text: str | tuple) -> None:
        """scan() of a marked text; `text`: the normalised text, or (function, *arguments)
        that returns it, called only when a hit's key must be checked against it."""
        entries = self.entries
        if not entries:
            return
        for end, index in self.automaton.iter(marked):
            for offset, length, check, term, allow in entries[index]:
                start = end - offset
                if check is not None:
                    if not isinstance(text, str):
                        # A tuple costs less to make than a closure, once per prompt.
                        text = text[0](*text[1:])
                    if text[start : start + length] != check:
                        continue
                if term >= 0:
                    hits.append((start, start + length, term))
                if allow >= 0:
                    allowed.append((start, start + length))

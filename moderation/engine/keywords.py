"""Keyword matching: one Aho-Corasick automaton per keyword set, built once per bundle.

Whole-word mode: a match must not touch a word character (letter, digit or
combining mark, in the normalised text) on a side where the term itself ends
in a word character. '_' is not a word character, so "sex_party" matches
"sex". Scripts written without spaces between words (Han, Hiragana,
Katakana, Thai, Lao, Khmer, Myanmar) have no word boundaries: a term edge in
one of those scripts needs none, so CJK terms match as substrings, and a
character of those scripts next to a Latin term edge counts as a boundary
("看av" holds the word "av").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import ahocorasick

from moderation.engine.bundle.types import KeywordSet
from moderation.engine.errors import BundleError
from moderation.engine.normalize import NormalizedText, normalize, normalize_term

MAX_EXPLAINED_MATCHES = 20
_NO_SPACE_SCRIPTS = re.compile(
    "["
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\U00020000-\U0003ffff"  # CJK extensions B and later
    "]"
)


def is_word_char(char: str) -> bool:
    """Return whether `char` is a letter, digit or combining mark."""
    return char.isalnum() or (char >= "\u0300" and unicodedata.category(char)[0] == "M")


def needs_boundary(char: str) -> bool:
    """Return whether `char` is a word character of a script that separates words."""
    if char.isascii():
        return char.isalnum()
    return is_word_char(char) and _NO_SPACE_SCRIPTS.match(char) is None


@dataclass(frozen=True)
class KeywordMatch:
    """One term found in a text, with its span in the ORIGINAL text."""

    term: str  # the term as written in the keyword set
    start: int
    end: int
    text: str  # the original characters matched

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {"term": self.term, "span": [self.start, self.end], "text": self.text}


class CompiledKeywordSet:
    """A keyword set's normalised terms and allow-list in one automaton, ready to match."""

    def __init__(self, keyword_set: KeywordSet, path: str = "keyword_set") -> None:
        self.keyword_set = keyword_set
        self.options = keyword_set.options
        self.automaton = ahocorasick.Automaton()
        entries: dict[str, list] = {}
        self._add(entries, keyword_set.terms, f"{path}.terms", slot=0)
        self._add(entries, keyword_set.allow, f"{path}.allow", slot=1)
        whole = self.options.mode == "whole_word"
        for key, (term, allow) in entries.items():
            bounds = (whole and needs_boundary(key[0]), whole and needs_boundary(key[-1]))
            self.automaton.add_word(key, (len(key), term, allow, *bounds))
        self.automaton.make_automaton()
        self.size = len(entries)

    def _add(self, entries: dict[str, list], phrases, path: str, slot: int) -> None:
        for i, phrase in enumerate(phrases):
            key = normalize_term(phrase, self.options)
            if not key:
                raise BundleError(
                    f"{path}[{i}]",
                    "empty after normalisation (only invisible characters "
                    "or separators); remove it",
                )
            entry = entries.setdefault(key, [-1, -1])
            if entry[slot] < 0:  # the first spelling of duplicates is the one reported
                entry[slot] = i

    def find(self, norm: NormalizedText) -> list[KeywordMatch]:
        """Return every term match in `norm` that no allow-listed phrase match contains."""
        text = norm.text
        hits, allowed = [], []
        last = len(text) - 1
        for end, (length, term, allow, check_start, check_end) in self.automaton.iter(text):
            start = end - length + 1
            # ASCII neighbours are tested inline: this loop runs once per raw hit.
            if check_start and start > 0:
                c = text[start - 1]
                if c.isalnum() if c < "\x80" else needs_boundary(c):
                    continue
            if check_end and end < last:
                c = text[end + 1]
                if c.isalnum() if c < "\x80" else needs_boundary(c):
                    continue
            if term >= 0:
                hits.append((start, end + 1, term))
            if allow >= 0:
                allowed.append((start, end + 1))
        if not hits:
            return hits
        if allowed:
            hits = [h for h in hits if not any(a <= h[0] and h[1] <= b for a, b in allowed)]
        return [self._match(norm, start, end, term) for start, end, term in hits]

    def _match(self, norm: NormalizedText, start: int, end: int, term: int) -> KeywordMatch:
        a, b = norm.span(start, end)
        return KeywordMatch(self.keyword_set.terms[term], a, b, norm.original[a:b])

    def match(self, text: str) -> list[KeywordMatch]:
        """Normalise `text` with this set's options and return its matches."""
        return self.find(normalize(text, self.options))


def explain_matches(matches: list[KeywordMatch]) -> dict[str, Any]:
    """Return the explanation of a keyword rule: the first matches and how many there were."""
    return {
        "match_count": len(matches),
        "matches": [m.as_dict() for m in matches[:MAX_EXPLAINED_MATCHES]],
    }

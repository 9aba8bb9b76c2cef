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

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import ahocorasick
import numpy as np

from moderation.engine.bundle.types import KeywordSet
from moderation.engine.errors import BundleError
from moderation.engine.normalize import (
    NormalizedBatch,
    NormalizedText,
    normalize,
    normalize_batch,
    normalize_term,
)

MAX_EXPLAINED_MATCHES = 20
# Texts at least this long are scanned with numpy instead of a per-hit loop.
VECTORISE_FROM = 4096
_WORD_LOOKUP = np.array([chr(i).isalnum() for i in range(128)], dtype=bool)
_WORD_BYTES = bytes(int(chr(i).isalnum()) if i < 128 else 0 for i in range(256))
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
        entries: dict[str, list] = {}
        self._add(entries, keyword_set.terms, f"{path}.terms", slot=0)
        self._add(entries, keyword_set.allow, f"{path}.allow", slot=1)
        whole = self.options.mode == "whole_word"
        # The automaton stores an int per key; what the int means lives in a
        # list (for the per-hit loop) and in arrays (for the vectorised scan).
        self.automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        self._info = []
        for index, (key, (term, allow)) in enumerate(entries.items()):
            bounds = (whole and needs_boundary(key[0]), whole and needs_boundary(key[-1]))
            self._info.append((len(key), term, allow, *bounds))
            self.automaton.add_word(key, index)
        self.automaton.make_automaton()
        columns = list(zip(*self._info, strict=True)) if self._info else [()] * 5
        self._length, self._term, self._allow = (np.array(c, dtype=np.int64) for c in columns[:3])
        self._check_start, self._check_end = (np.array(c, dtype=bool) for c in columns[3:])
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
        return [self._match(norm, start, end, term) for start, end, term in self._hits(norm.text)]

    def find_batch(self, batch: NormalizedBatch) -> list[list[KeywordMatch]]:
        """Return the matches of every text of `batch`; the same as find() one by one."""
        results: list[list[KeywordMatch]] = [[] for _ in batch.texts]
        for i, norm in batch.singles.items():
            results[i] = self.find(norm)
        hits = self._hits(batch.joined.text)
        if not hits:
            return results
        a, b, rows = _batch_spans(batch, np.array(hits, dtype=np.int64).reshape(-1, 3))
        terms = self.keyword_set.terms
        for (_, _, term), start, end, row in zip(hits, a, b, rows, strict=True):
            i = batch.joined_rows[row]
            results[i].append(KeywordMatch(terms[term], start, end, batch.texts[i][start:end]))
        return results

    def match_batch(self, texts: list[str]) -> list[list[KeywordMatch]]:
        """Normalise and match many texts; the same as match() one by one, faster."""
        return self.find_batch(normalize_batch(texts, self.options))

    def _hits(self, text: str) -> list[tuple[int, int, int]]:
        if len(text) >= VECTORISE_FROM:
            return self._hits_vectorised(text)
        return self._hits_loop(text)

    def _hits_loop(self, text: str) -> list[tuple[int, int, int]]:
        hits, allowed = [], []
        last = len(text) - 1
        info = self._info
        for end, key in self.automaton.iter(text):
            length, term, allow, check_start, check_end = info[key]
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
        if allowed and hits:
            hits = [h for h in hits if not any(a <= h[0] and h[1] <= b for a, b in allowed)]
        return hits

    def _hits_vectorised(self, text: str) -> list[tuple[int, int, int]]:
        flat = itertools.chain.from_iterable(self.automaton.iter(text))
        raw = np.fromiter(flat, dtype=np.int64).reshape(-1, 2)
        ends, keys = raw[:, 0], raw[:, 1]
        starts = ends - self._length[keys] + 1
        joins, last = word_chars(text), len(text) - 1
        bad_start = self._check_start[keys] & (starts > 0) & joins[np.maximum(starts - 1, 0)]
        bad_end = self._check_end[keys] & (ends < last) & joins[np.minimum(ends + 1, last)]
        ok = ~(bad_start | bad_end)
        is_term = ok & (self._term[keys] >= 0)
        hits = np.stack([starts[is_term], ends[is_term] + 1, self._term[keys[is_term]]], axis=1)
        is_allow = ok & (self._allow[keys] >= 0)
        if is_allow.any() and len(hits):
            hits = hits[~_contained(hits, starts[is_allow], ends[is_allow] + 1)]
        return [tuple(h) for h in hits.tolist()]

    def _match(self, norm: NormalizedText, start: int, end: int, term: int) -> KeywordMatch:
        a, b = norm.span(start, end)
        return KeywordMatch(self.keyword_set.terms[term], a, b, norm.original[a:b])

    def match(self, text: str) -> list[KeywordMatch]:
        """Normalise `text` with this set's options and return its matches."""
        return self.find(normalize(text, self.options))


def word_chars(text: str) -> np.ndarray:
    """Return, per character of `text`, whether it is a word character of a spaced script."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii").translate(_WORD_BYTES), dtype=bool)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    result = np.zeros(len(codes), dtype=bool)
    ascii_chars = codes < 128
    result[ascii_chars] = _WORD_LOOKUP[codes[ascii_chars]]
    others = ~ascii_chars
    unique, inverse = np.unique(codes[others], return_inverse=True)
    result[others] = np.array([needs_boundary(chr(c)) for c in unique.tolist()], bool)[inverse]
    return result


def _batch_spans(batch: NormalizedBatch, hits: np.ndarray) -> tuple[list, list, list]:
    # Normalised spans to spans of the joined original, then to (text, local span).
    joined = batch.joined
    starts, ends = hits[:, 0], hits[:, 1]
    if joined.starts is not None:
        starts, ends = joined.starts[starts], joined.ends[ends - 1]
    rows = np.searchsorted(batch.offsets, starts, side="right") - 1
    base = batch.offsets[rows]
    return (starts - base).tolist(), (ends - base).tolist(), rows.tolist()


def _contained(hits: np.ndarray, allow_starts: np.ndarray, allow_ends: np.ndarray) -> np.ndarray:
    # A hit lies inside an allow-listed match when, among the allow matches
    # starting at or before it, the furthest-reaching one ends at or after it.
    order = np.argsort(allow_starts, kind="stable")
    starts, reach = allow_starts[order], np.maximum.accumulate(allow_ends[order])
    before = np.searchsorted(starts, hits[:, 0], side="right") - 1
    return (before >= 0) & (reach[np.maximum(before, 0)] >= hits[:, 1])


def explain_matches(matches: list[KeywordMatch]) -> dict[str, Any]:
    """Return the explanation of a keyword rule: the first matches and how many there were."""
    return {
        "match_count": len(matches),
        "matches": [m.as_dict() for m in matches[:MAX_EXPLAINED_MATCHES]],
    }

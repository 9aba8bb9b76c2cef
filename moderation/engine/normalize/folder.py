"""Per-character folding (NFKC, casefold, accents, invisible characters,
homoglyphs, leetspeak digits) under one set of options, with the span of the
original each folded character came from."""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np

from moderation.engine.match_options import MatchOptions
from moderation.engine.normalize.tables import ACCENT_MARKS, ascii_bytes, ascii_table, char_table
from moderation.engine.normalize.unicode import (
    NON_ASCII_RUN_RE,
    combining_class,
    marks,
    non_ascii_chars,
    non_ascii_runs,
)


class Folder:
    """Folds characters and short clusters under one set of options, with a cache."""

    _CACHE_LIMIT = 50_000
    # Longer clusters (a letter under a pile of marks) are folded but not
    # cached: a text of them must not fill the cache with one-off entries.
    _CACHED_UP_TO = 16

    def __init__(
        self, casefold: bool, nfkc: bool, leetspeak: bool, homoglyphs: bool, accents: bool
    ) -> None:
        self.casefold, self.nfkc, self.accents = casefold, nfkc, accents
        self.ascii_table = ascii_table(casefold, leetspeak)
        self.ascii_bytes = ascii_bytes(casefold, leetspeak)
        self.table = char_table(homoglyphs, leetspeak)
        self.cache: dict[str, str] = {}
        # Every character seen by fold_chars, as a str.translate table, and the
        # ones that do not fold to exactly one character.
        self.char_map: dict[int, str] = dict(self.ascii_table)
        self.seen: set[str] = {chr(i) for i in range(128)}
        self.uneven: set[str] = set()

    def fold(self, cluster: str) -> str:
        """Return the folded form of a base character with its combining marks."""
        folded = self.cache.get(cluster)
        if folded is None:
            folded = cluster.translate(self.table)
            if self.accents:
                # Decomposed, the accents are combining marks of their own.
                folded = unicodedata.normalize("NFKD" if self.nfkc else "NFD", folded)
                folded = unicodedata.normalize("NFC", folded.translate(ACCENT_MARKS))
            if self.nfkc:
                folded = unicodedata.normalize("NFKC", folded)
            if self.casefold:
                folded = folded.casefold()
            # Folding again: NFKC and casefold can produce look-alikes or
            # invisible characters the first pass did not see.
            folded = folded.translate(self.table)
            if len(self.cache) < self._CACHE_LIMIT and len(cluster) <= self._CACHED_UP_TO:
                self.cache[cluster] = folded
        return folded

    def aligned(self, text: str) -> bool:
        """Return whether fold_chars can fold `text`: no combining marks, and each character
        folds to exactly one (the table learns the characters it has not seen yet)."""
        others = non_ascii_chars(text)
        if not marks().isdisjoint(others):
            return False
        # The common case, every character seen before, builds no set.
        if not self.seen.issuperset(others):
            missing = set(others).difference(self.seen)
            if len(self.seen) + len(missing) > self._CACHE_LIMIT:
                return False
            for char in missing:
                folded = self.fold(char)
                self.char_map[ord(char)] = folded
                if len(folded) != 1:
                    self.uneven.add(char)
            self.seen.update(missing)
        return self.uneven.isdisjoint(others)

    def fold_chars(self, text: str) -> str:
        """Return `text` (for which aligned() is true) folded character by character: ASCII
        as UTF-8 bytes, each non-ASCII run with one str.translate."""
        raw = text.encode("utf-8", "surrogatepass").translate(self.ascii_bytes)
        folded = raw.decode("utf-8", "surrogatepass")
        return NON_ASCII_RUN_RE.sub(self._fold_run, folded)

    def _fold_run(self, run: re.Match[str]) -> str:
        return run.group().translate(self.char_map)


def folder_for(options: MatchOptions) -> Folder:
    """Return the one Folder of these options' per-character foldings in this process."""
    return _folder(
        options.casefold, options.nfkc, options.leetspeak, options.homoglyphs, options.accents
    )


@functools.cache
def _folder(casefold: bool, nfkc: bool, leetspeak: bool, homoglyphs: bool, accents: bool) -> Folder:
    # Keyed by the per-character foldings only, so sets that differ in mode
    # or in the later steps share one Folder and its caches.
    return Folder(casefold, nfkc, leetspeak, homoglyphs, accents)


@functools.cache
def _cluster_re() -> re.Pattern[str]:
    # A base character with its combining marks and the invisible characters
    # among them: dropped on their own, an invisible character would leave its
    # marks apart from their letter, to compose with it only on a second pass
    # ("A\xad\u0301" folds to "Á" at once, as its folded form does).
    invisible = "".join(sorted(chr(c) for c, to in char_table(False, False).items() if to is None))
    return re.compile(f".(?:{combining_class()}|[{re.escape(invisible)}])*", re.S)


def fold_mixed(text: str, folder: Folder) -> tuple[str, np.ndarray, np.ndarray]:
    """Return `text` folded cluster by cluster, with each output character's original
    start and end; for any text, including those that do not fold one for one."""
    parts: list[str] = []
    offsets = _Offsets()
    clusters = _cluster_re()
    pos = 0
    for run_start, run_end in non_ascii_runs(text):
        # The ASCII character before the run goes with it: a combining mark
        # must stay with its base letter.
        first = run_start - 1 if run_start > pos else run_start
        _add_ascii(text, pos, first, folder, parts, offsets)
        if marks().isdisjoint(text[first:run_end]):
            # No combining marks (the usual case): every character is a cluster.
            for at in range(first, run_end):
                folded = folder.fold(text[at])
                parts.append(folded)
                offsets.add(at, at + 1, len(folded))
        else:
            for cluster in clusters.finditer(text, first, run_end):
                folded = folder.fold(cluster.group())
                parts.append(folded)
                offsets.add(cluster.start(), cluster.end(), len(folded))
        pos = run_end
    _add_ascii(text, pos, len(text), folder, parts, offsets)
    return ("".join(parts), *offsets.arrays())


class _Offsets:
    """Collects each output character's original span; long ASCII stretches as numpy ranges."""

    _RANGE_FROM = 256

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, start: int, end: int, count: int) -> None:
        """Record `count` output characters that all came from original [start, end)."""
        self.starts.extend([start] * count)
        self.ends.extend([end] * count)

    def add_identity(self, start: int, end: int) -> None:
        """Record output characters that map one to one onto original [start, end)."""
        if end - start < self._RANGE_FROM:
            self.starts.extend(range(start, end))
            self.ends.extend(range(start + 1, end + 1))
            return
        self._flush()
        self.chunks.append((np.arange(start, end), np.arange(start + 1, end + 1)))

    def _flush(self) -> None:
        if self.starts:
            self.chunks.append((np.array(self.starts, np.int64), np.array(self.ends, np.int64)))
            self.starts, self.ends = [], []

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the start and end arrays, one entry per output character."""
        self._flush()
        if len(self.chunks) == 1:
            return self.chunks[0]
        if not self.chunks:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return tuple(np.concatenate(c).astype(np.int64) for c in zip(*self.chunks, strict=True))


def _add_ascii(text: str, start: int, end: int, folder, parts: list, offsets: _Offsets) -> None:
    if start < end:
        parts.append(_fold_ascii(text[start:end], folder))
        offsets.add_identity(start, end)


def _fold_ascii(text: str, folder: Folder) -> str:
    return text.encode("ascii").translate(folder.ascii_bytes).decode("ascii")

"""The normalisation pipeline: per-character folding, then split words, then
leetspeak symbols, then repeated letters, each on the fastest path the text
allows."""

from __future__ import annotations

from moderation.engine.match_options import MatchOptions
from moderation.engine.normalize.folder import Folder, fold_mixed, folder_for
from moderation.engine.normalize.leetspeak import fold_leet_symbols, has_symbols
from moderation.engine.normalize.options import NormalizedText
from moderation.engine.normalize.repeats import squeeze_repeats
from moderation.engine.normalize.separators import join_split_words, split_shape, splitter_for

# Non-ASCII texts shorter than this may fold with C-level translations (see
# Folder.aligned); longer ones take the general path, whose numpy scans do
# better than regular expressions over megabytes.
ALIGNED_BELOW = 4096


def normalize(text: str, options: MatchOptions) -> NormalizedText:
    """Normalise `text` under `options`, keeping a map back to the original spans."""
    folder = folder_for(options)
    if text.isascii():
        return _normalize_ascii(text, folder, options)
    if len(text) < ALIGNED_BELOW and folder.aligned(text):
        # No combining marks and every character folds to one: C-level
        # translations, and the output stays aligned with the input.
        return _finish(text, folder.fold_chars(text), None, None, options)
    return _finish(text, *fold_mixed(text, folder), options)


def normalize_aligned(text: str, options: MatchOptions) -> NormalizedText:
    """Normalise `text`, which folds one character for one (see Folder.aligned), of any
    length; the same result as normalize()."""
    folder = folder_for(options)
    if text.isascii():
        return _normalize_ascii(text, folder, options)
    return _finish(text, folder.fold_chars(text), None, None, options)


def _fold_symbols(folded: str, options: MatchOptions) -> str:
    if not (options.leetspeak or options.leet_symbols):
        return folded
    return fold_leet_symbols(folded, base=options.leetspeak, more=options.leet_symbols)


def _finish(text: str, folded: str, starts, ends, options: MatchOptions) -> NormalizedText:
    # The steps after per-character folding: split words, then leetspeak symbols.
    if options.ignore_separators:
        splitter = splitter_for(options)
        folded, kept = join_split_words(folded, None, splitter, options.one_letter_words)
        if kept is not None:
            starts, ends = (kept, kept + 1) if starts is None else (starts[kept], ends[kept])
    folded = _fold_symbols(folded, options)
    if options.squeeze_repeats:
        return _squeezed(text, folded, starts, ends)
    return NormalizedText(text, folded, starts, ends)


def _squeezed(text: str, folded: str, starts, ends) -> NormalizedText:
    # Last, so that runs spelled out ("n u u u d e") or in leetspeak squeeze too.
    squeezed, firsts, lasts = squeeze_repeats(folded)
    if firsts is None:
        return NormalizedText(text, folded, starts, ends)
    if starts is None:
        return NormalizedText(text, squeezed, firsts, lasts + 1)
    return NormalizedText(text, squeezed, starts[firsts], ends[lasts])


def _normalize_ascii(text: str, folder: Folder, options: MatchOptions) -> NormalizedText:
    # The common case, kept to a few C-level calls on bytes: most prompts are
    # short ASCII, where per-call overhead is most of the cost.
    raw = text.encode("ascii").translate(folder.ascii_bytes)
    folded = raw.decode("ascii")
    starts = ends = None
    if candidates := split_shape(raw, options):
        splitter = splitter_for(options)
        folded, kept = join_split_words(folded, candidates, splitter, options.one_letter_words)
        if kept is not None:
            starts, ends = kept, kept + 1
    if has_symbols(raw, options):
        folded = _fold_symbols(folded, options)
    if options.squeeze_repeats:
        return _squeezed(text, folded, starts, ends)
    return NormalizedText(text, folded, starts, ends)


def normalize_term(term: str, options: MatchOptions) -> str:
    """Normalise a keyword term with the same pipeline as the text it is matched against."""
    return normalize(term, options).text

"""Text normalisation for keyword matching, with a map back to the original text.

The pipeline, each step switchable per keyword set (see MatchOptions):

1. per character: NFKC, casefold, drop invisible characters (Unicode format
   characters: zero-width, bidi controls, tags, soft hyphen; variation
   selectors), fold homoglyphs to ASCII, fold leetspeak digits (tables.py,
   folder.py, unicode.py);
2. join single letters split by separators (``s.e.x``, ``s e x``, ``s-e-x``;
   separators.py);
3. fold leetspeak symbols (``$``, ``@``, ``!``, ``|``, ``+``) inside words
   (leetspeak.py).

Every character of the normalised text remembers the span of the original
text it came from, so a match always maps back to the original characters.
pipeline.py runs the steps; this package's names are the ones to import.
"""

from moderation.engine.match_options import MatchMode, MatchOptions
from moderation.engine.normalize.leetspeak import LEET_CHARS, LEET_SYMBOLS
from moderation.engine.normalize.options import NormalizedText
from moderation.engine.normalize.pipeline import (
    ALIGNED_BELOW,
    normalize,
    normalize_aligned,
    normalize_term,
)
from moderation.engine.normalize.plain import PlainText, plain_ascii, plain_folder, squeezed_spans
from moderation.engine.normalize.separators import (
    READING_MARK,
    SEPARATOR_CHARS,
    SHAPE_VECTORISE_FROM,
)
from moderation.engine.normalize.unicode import non_ascii_chars

__all__ = [
    "ALIGNED_BELOW",
    "LEET_CHARS",
    "LEET_SYMBOLS",
    "READING_MARK",
    "SEPARATOR_CHARS",
    "SHAPE_VECTORISE_FROM",
    "MatchMode",
    "MatchOptions",
    "NormalizedText",
    "PlainText",
    "non_ascii_chars",
    "normalize",
    "normalize_aligned",
    "normalize_term",
    "plain_ascii",
    "plain_folder",
    "squeezed_spans",
]

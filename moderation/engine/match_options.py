"""How a keyword set matches, declared once: every interface derives its fields from MatchOptions.

Each field's metadata says what a person sees of it: `label` (a form's label),
`help` (the API's description) and `summary` (its word in a set's one-line
summary) and, for a choice, `choices` (value → label). Adding an option is a
field here and the keyword set model's field with its migration; the forms,
the API serializers, the policy YAML schema and the bundle codec read
`OPTION_SPECS`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

MatchMode = Literal["whole_word", "substring"]
MATCH_MODES = {"whole_word": "Whole word", "substring": "Substring"}


def _folding(
    label: str, summary: str, help: str, absent: bool | None = None, default: bool = True
) -> Any:
    # `absent`: what a bundle without this option's key means. Options added
    # after bundles were first published set it, so that a published bundle,
    # which does not name them, keeps the meaning it was published with.
    metadata = {"label": label, "summary": summary, "help": help, "absent": absent}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class MatchOptions:
    """How a keyword set matches: mode and which foldings apply to text and terms."""

    mode: MatchMode = field(
        default="whole_word",
        metadata={
            "label": "Mode",
            "choices": MATCH_MODES,
            "help": "whole_word: a term matches whole words only; substring: anywhere in a word.",
        },
    )
    casefold: bool = _folding("Ignore case", "any case", "Match whatever the letter case.")
    nfkc: bool = _folding(
        "Unicode NFKC folding", "NFKC", "Fold compatibility characters (fullwidth, ligatures)."
    )
    leetspeak: bool = _folding(
        "Leetspeak (s3x → sex)", "leetspeak", "Read digits and symbols as the letters they mimic."
    )
    homoglyphs: bool = _folding(
        "Look-alike letters (Cyrillic а → a)",
        "look-alikes",
        "Fold letters of other scripts that look like ASCII letters.",
    )
    ignore_separators: bool = _folding(
        "Ignore separators between letters (s.e.x)",
        "separators",
        "Join single letters split by dots, dashes or spaces.",
    )
    any_separators: bool = _folding(
        "Any non-letters between single letters (n*u_d/e, n, u, d, e)",
        "any separators",
        "With separators joined: a run of up to five characters that are not letters or "
        "digits (punctuation, symbols, spaces) separates the letters of a split word.",
        absent=False,
    )
    one_letter_words: bool = _folding(
        "Split words next to one-letter words (a n.u.d.e)",
        "one-letter words",
        "With separators joined: a split word next to a one-letter word is read both ways "
        '("a n u d e" as "anude" and as "a nude").',
        absent=False,
    )
    accents: bool = _folding(
        "Ignore accents (nüdë → nude)",
        "accents",
        "Strip accents and other combining marks from letters (after NFKD).",
        absent=False,
    )
    leet_symbols: bool = _folding(
        "More leetspeak symbols (n@k€d, su(k)",
        "symbols",
        "Read €, £, ¥, (, <, # and other symbols as the letters they mimic.",
        absent=False,
    )
    squeeze_repeats: bool = _folding(
        "Squeeze repeated letters (nuuude → nude)",
        "repeats",
        "Read a run of one repeated letter as that letter once, in text and terms alike.",
        absent=False,
        # Off by default: it costs about a third of batch throughput and two
        # thirds of single-prompt throughput (docs/benchmarks.md).
        default=False,
    )

    def fold_key(self) -> tuple[bool, ...]:
        """Return the part of the options that decides normalisation (not the mode)."""
        # Asked per keyword set on every request: computed once (the options are frozen).
        key = self.__dict__.get("_fold_key")
        if key is None:
            key = tuple(getattr(self, name) for name in FOLDINGS)
            object.__setattr__(self, "_fold_key", key)
        return key

    def summary(self) -> str:
        """The mode and every folding that is on, as one line: "Whole word · any case · NFKC"."""
        words = [spec.choices[getattr(self, spec.name)] for spec in OPTION_SPECS if spec.choices]
        words += [
            spec.summary
            for spec in OPTION_SPECS
            if spec.name in FOLDINGS and getattr(self, spec.name)
        ]
        return " · ".join(words)


@dataclass(frozen=True)
class OptionSpec:
    """One match option as an interface shows it: a choice among `choices`, or else a boolean."""

    name: str
    default: Any
    label: str
    help: str
    summary: str = ""
    choices: dict[str, str] | None = None
    # What a bundle that does not name the option means (None: it must name it).
    absent: Any = None

    def __post_init__(self) -> None:
        # The interfaces know two kinds of option; a third needs its fields there first.
        if self.choices is not None and self.default not in self.choices:
            raise TypeError(f"{self.name}: default {self.default!r} is not one of its choices")
        if self.choices is None and not isinstance(self.default, bool):
            raise TypeError(f"{self.name}: an option is a choice (with `choices`) or a boolean")


OPTION_SPECS: tuple[OptionSpec, ...] = tuple(
    OptionSpec(name=f.name, default=f.default, **f.metadata)
    for f in dataclasses.fields(MatchOptions)
)
OPTION_NAMES: tuple[str, ...] = tuple(spec.name for spec in OPTION_SPECS)
# The boolean options: each switches one folding of text and terms before matching.
FOLDINGS: tuple[str, ...] = tuple(spec.name for spec in OPTION_SPECS if not spec.choices)

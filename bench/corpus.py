"""Deterministic generated prompts and keyword terms for the benchmarks (nothing downloaded)."""

from __future__ import annotations

import random


def _items(text: str, sep: str | None = None) -> list[str]:
    return [item.strip() for item in text.split(sep)]


STYLES = _items(
    """photo, oil painting, watercolor, digital art, pencil sketch, 3d render, anime still,
cinematic shot, studio portrait, polaroid, pixel art, concept art, charcoal drawing,
isometric illustration, low poly model, vintage postcard, comic panel, ink wash""",
    ",",
)
ADJECTIVES = _items(
    """red blue green golden silver ancient modern tiny enormous happy sad quiet busy
foggy sunny rainy snowy glowing dark bright cozy lonely crowded colorful elegant rustic
futuristic medieval wooden metallic glass marble velvet shiny dusty wet frozen burning
floating sleeping dancing smiling curious brave gentle wild calm stormy neon pastel"""
)
NOUNS = _items(
    """cat dog fox owl horse dragon robot astronaut knight wizard princess farmer chef
sailor dancer child grandmother city village castle forest mountain river lake ocean beach
desert island bridge tower lighthouse garden library kitchen market street train car bicycle
boat airplane spaceship planet moon star cloud tree flower mushroom cake teapot guitar piano
book lantern umbrella clock mirror window door staircase bird whale turtle butterfly"""
)
VERBS = _items(
    """running walking flying swimming reading cooking painting singing playing sitting
standing jumping climbing sleeping dreaming exploring watching holding carrying building
fishing sailing riding looking laughing waiting resting gardening writing"""
)
PLACES = _items(
    """in a park, on a rooftop, under the sea, in outer space, at the market, in the rain,
by the fireplace, on a mountain top, in a busy cafe, inside a cathedral, at sunset,
in a snowy forest, on a crowded street, beside a waterfall, in a sunflower field,
in an abandoned factory, on the moon, at a night market, in a greenhouse""",
    ",",
)
DETAILS = _items(
    """highly detailed, soft lighting, golden hour, 4k, dramatic shadows, wide angle,
shallow depth of field, trending on artstation, octane render, volumetric light,
film grain, bokeh, symmetrical composition, muted colors, vibrant colors, hyperrealistic,
by a famous artist, award winning, intricate patterns, minimalist""",
    ",",
)
NON_ASCII = [
    "café au lait, crème brûlée",
    "東京の夜景, ネオン",
    "Москва зимой",
    "Ελληνικό νησί",
    "naïve façade à la mode",
    "北京的胡同",
    "🙂✨🌸",
]
_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"


def prompt(rng: random.Random) -> str:
    """Return one realistic text-to-image prompt."""
    parts = [
        f"{rng.choice(STYLES)} of a {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}",
        f"{rng.choice(VERBS)} {rng.choice(PLACES)}",
    ]
    parts += rng.sample(DETAILS, rng.randint(1, 5))
    if rng.random() < 0.3:
        parts.insert(1, f"with a {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}")
    if rng.random() < 0.03:
        parts.append(rng.choice(NON_ASCII))
    return ", ".join(parts)


def pseudo_word(rng: random.Random) -> str:
    """Return a pronounceable made-up word of 2 to 4 syllables."""
    syllables = rng.randint(2, 4)
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables))


def terms(count: int, seed: int = 7) -> list[str]:
    """Return `count` distinct terms: made-up words, made-up phrases and real word pairs."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    # A few hundred real adjective-noun pairs, so ordinary prompts do match sometimes.
    for _ in range(min(300, count // 10)):
        found[f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"] = None
    while len(found) < count:
        word = pseudo_word(rng)
        found[word if rng.random() < 0.7 else f"{word} {pseudo_word(rng)}"] = None
    return list(found)[:count]


EVASIONS = [
    lambda t: t.upper(),
    lambda t: ".".join(t) if " " not in t and len(t) < 12 else t,
    lambda t: t.replace("e", "3").replace("a", "4").replace("o", "0"),
    lambda t: t.replace("a", "а").replace("e", "е").replace("o", "о"),  # Cyrillic look-alikes
    lambda t: "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in t),  # fullwidth
    lambda t: t[: len(t) // 2] + "\u200b" + t[len(t) // 2 :],
]


def prompts(
    total_bytes: int, planted_terms: list[str], seed: int = 11
) -> tuple[list[str], dict[int, str]]:
    """Return prompts of at least `total_bytes` UTF-8 bytes, and {index: term} of the 1%
    that hold an evaded term."""
    rng = random.Random(seed)
    result: list[str] = []
    planted: dict[int, str] = {}
    size = 0
    while size < total_bytes:
        text = prompt(rng)
        if rng.random() < 0.01:
            term = rng.choice(planted_terms)
            text = f"{text}, {rng.choice(EVASIONS)(term)}"
            planted[len(result)] = term
        result.append(text)
        size += len(text.encode("utf-8"))
    return result, planted

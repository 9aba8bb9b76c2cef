"""The category catalogue: data shipped as YAML, loaded once and validated strictly."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from moderation.engine.bundle import fields as f
from moderation.engine.bundle.types import CategoryOutputs
from moderation.engine.errors import BundleError, CatalogueError

DEFAULT_PATH = Path(__file__).parent / "data" / "categories.yaml"
MIN_EXAMPLES, MAX_EXAMPLES = 8, 15
_OUTPUT_RE = re.compile(r"^[a-z0-9_]+\.[A-Za-z0-9_/\-]+$")
_CATEGORY_KEYS = (
    "id", "name", "description", "applies_to", "review_at", "block_at", "outputs",
    "prompt_examples",
)  # fmt: skip


@dataclass(frozen=True)
class Category:
    """One catalogue entry: default thresholds and the model outputs that feed it."""

    id: str
    name: str
    description: str
    applies_to: str  # prompt, image or both
    review_at: float
    block_at: float
    outputs: CategoryOutputs
    prompt_examples: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """Every category of the platform, in file order."""

    categories: tuple[Category, ...]

    def get(self, category_id: str) -> Category:
        """Return the category `category_id`; raises KeyError naming the known ids."""
        for category in self.categories:
            if category.id == category_id:
                return category
        known = ", ".join(self.ids())
        raise KeyError(f"unknown category {category_id!r}; the catalogue has {known}")

    def ids(self) -> tuple[str, ...]:
        """Return every category id in file order."""
        return tuple(c.id for c in self.categories)

    def prompt_examples(self) -> dict[str, list[str]]:
        """Return the example phrases per category that the text category scorer learns from."""
        return {c.id: list(c.prompt_examples) for c in self.categories if c.prompt_examples}

    def category_outputs(self, category_ids: Iterable[str]) -> dict[str, CategoryOutputs]:
        """Return the output mapping a bundle needs to score `category_ids`."""
        return {cid: self.get(cid).outputs for cid in sorted(set(category_ids))}


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate the catalogue at `path`, cached.

    The default is MODERATION_CATALOGUE when set, else the catalogue shipped here.
    """
    return _load(Path(path or os.environ.get("MODERATION_CATALOGUE") or DEFAULT_PATH).resolve())


@functools.cache
def _load(path: Path) -> Catalogue:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError("", f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError("", f"{path} is not valid YAML: {exc}") from None
    try:
        return parse_catalogue(raw)
    except BundleError as exc:
        raise CatalogueError(exc.path, f"{exc.problem} (in {path})") from None


def parse_catalogue(raw: Any) -> Catalogue:
    """Validate catalogue data (as parsed from YAML) and return it; errors name the path."""
    top = f.obj(raw, "", ("spec", "categories"))
    if top["spec"] != "1":
        raise BundleError("spec", f"unsupported catalogue spec {top['spec']!r}; expected '1'")
    items = f.array(top["categories"], "categories", max_items=1000)
    categories = [_category(item, f"categories[{i}]") for i, item in enumerate(items)]
    seen: set[str] = set()
    for i, category in enumerate(categories):
        if category.id in seen:
            raise BundleError(f"categories[{i}].id", f"duplicate id {category.id!r}")
        seen.add(category.id)
    return Catalogue(tuple(categories))


def _category(raw: Any, path: str) -> Category:
    d = f.obj(raw, path, _CATEGORY_KEYS)
    applies_to = f.choice(d["applies_to"], f"{path}.applies_to", ("prompt", "image", "both"))
    review_at = f.number(d["review_at"], f"{path}.review_at", 0.0, 1.0)
    block_at = f.number(d["block_at"], f"{path}.block_at", 0.0, 1.0)
    if review_at > block_at:
        raise BundleError(path, f"review_at {review_at} is above block_at {block_at}")
    outputs = _outputs(d["outputs"], f"{path}.outputs", applies_to)
    examples = [
        f.string(e, f"{path}.prompt_examples[{i}]", max_chars=200)
        for i, e in enumerate(
            f.array(d["prompt_examples"], f"{path}.prompt_examples", max_items=MAX_EXAMPLES)
        )
    ]
    if outputs.prompt and len(examples) < MIN_EXAMPLES:
        raise BundleError(
            f"{path}.prompt_examples",
            f"{len(examples)} examples; give {MIN_EXAMPLES} to "
            f"{MAX_EXAMPLES} so the text scorer can learn the category",
        )
    return Category(
        id=f.string(d["id"], f"{path}.id", max_chars=64),
        name=f.string(d["name"], f"{path}.name"),
        description=f.string(d["description"], f"{path}.description", max_chars=500),
        applies_to=applies_to,
        review_at=review_at,
        block_at=block_at,
        outputs=outputs,
        prompt_examples=tuple(examples),
    )


def _outputs(raw: Any, path: str, applies_to: str) -> CategoryOutputs:
    d = f.obj(raw, path, ("prompt", "image"))
    parsed = {}
    for modality in ("prompt", "image"):
        names = f.array(d[modality], f"{path}.{modality}", max_items=100)
        for i, name in enumerate(names):
            if not isinstance(name, str) or not _OUTPUT_RE.match(name):
                raise BundleError(
                    f"{path}.{modality}[{i}]",
                    f"{name!r} is not an output name "
                    "'<model>.<label>' such as 'nudenet.FEMALE_BREAST_EXPOSED'",
                )
        if applies_to in (modality, "both") and not names:
            raise BundleError(f"{path}.{modality}", f"applies to {modality} but lists no outputs")
        parsed[modality] = tuple(names)
    return CategoryOutputs(**parsed)

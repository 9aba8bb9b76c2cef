"""The category catalogue, loaded from the YAML shipped with the engine (minimal loader)."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

PATH = Path(__file__).parent / "data" / "categories.yaml"


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    description: str
    applies_to: str
    review_at: float
    block_at: float


@dataclass(frozen=True)
class Catalogue:
    categories: tuple[Category, ...]


@cache
def load_catalogue(path: Path | None = None) -> Catalogue:
    data = yaml.safe_load((path or PATH).read_text())
    return Catalogue(tuple(Category(**entry) for entry in data["categories"]))

"""The category catalogue as the authoring side sees it (the data lives with the engine)."""

from functools import cache

from moderation.engine.catalogue import load_catalogue


@cache
def categories() -> tuple:
    """Every category of the shipped catalogue, in catalogue order."""
    return tuple(load_catalogue().categories)


def category(category_id: str):
    """The catalogue entry with this id, or None."""
    return next((c for c in categories() if c.id == category_id), None)


def category_choices() -> list[tuple[str, str]]:
    return [(c.id, c.name) for c in categories()]

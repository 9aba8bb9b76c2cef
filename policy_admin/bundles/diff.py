"""What changed between two bundles: rules added, removed and changed, thresholds moved."""

import hashlib
from dataclasses import dataclass, field

import numpy as np

from moderation.engine.bundle.types import Bundle


@dataclass
class RuleChange:
    """One rule present in both bundles whose settings differ: field → (before, after)."""

    kind: str
    id: str
    name: str
    fields: dict[str, tuple] = field(default_factory=dict)


@dataclass
class BundleDiff:
    """Rules only in the new bundle, only in the old one, and in both but different."""

    added: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, id, name)
    removed: list[tuple[str, str, str]] = field(default_factory=list)
    changed: list[RuleChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def bundle_diff(old: Bundle, new: Bundle) -> BundleDiff:
    """Compare every rule by id; term lists are summarised as terms added and removed."""
    diff = BundleDiff()
    for kind, before, after in (
        ("threshold", _thresholds(old), _thresholds(new)),
        ("keyword set", _keywords(old), _keywords(new)),
        ("embedding set", _embeddings(old), _embeddings(new)),
        ("concept", _concepts(old), _concepts(new)),
        ("classifier", _classifiers(old), _classifiers(new)),
        ("conditional rule", _conditions(old), _conditions(new)),
    ):
        for rule_id in sorted(after.keys() - before.keys()):
            diff.added.append((kind, rule_id, after[rule_id]["name"]))
        for rule_id in sorted(before.keys() - after.keys()):
            diff.removed.append((kind, rule_id, before[rule_id]["name"]))
        for rule_id in sorted(before.keys() & after.keys()):
            fields = _fields(before[rule_id], after[rule_id])
            if fields:
                diff.changed.append(RuleChange(kind, rule_id, after[rule_id]["name"], fields))
    return diff


def _fields(before: dict, after: dict) -> dict[str, tuple]:
    out = {}
    for key in after:
        if key == "name" or before.get(key) == after[key]:
            continue
        if isinstance(after[key], frozenset):
            gone, new = sorted(before[key] - after[key]), sorted(after[key] - before[key])
            out[key] = (f"-{len(gone)}: {_few(gone)}", f"+{len(new)}: {_few(new)}")
        else:
            out[key] = (before.get(key), after[key])
    return out


def _few(items: list[str]) -> str:
    return ", ".join(items[:10]) + (" …" if len(items) > 10 else "")


def _thresholds(b: Bundle) -> dict:
    return {
        t.id: {"name": t.id, "review_at": t.review_at, "block_at": t.block_at, "source": t.source}
        for t in b.thresholds
    }


def _keywords(b: Bundle) -> dict:
    return {
        k.id: {
            "name": k.name,
            "action": k.action.value,
            "terms": frozenset(k.terms),
            "allow": frozenset(k.allow),
            "options": repr(k.options),
            "applies_to": k.applies_to,
        }
        for k in b.keyword_sets
    }


def _embeddings(b: Bundle) -> dict:
    return {
        e.id: {
            "name": e.name,
            "action": e.action.value,
            "threshold": e.threshold,
            "examples": frozenset(e.examples),
            "counter_examples": frozenset(e.counter_examples),
            "applies_to": e.applies_to,
        }
        for e in b.embedding_sets
    }


def _concepts(b: Bundle) -> dict:
    return {
        c.id: {
            "name": c.name,
            "action": c.action.value,
            "threshold": c.threshold,
            "method": c.method,
            "examples": _digest(c.vector, c.bias),
        }
        for c in b.concepts
    }


def _classifiers(b: Bundle) -> dict:
    return {
        c.id: {
            "name": c.name,
            "action": c.action.value,
            "threshold": c.threshold,
            "target": c.target,
            "version": c.version,
            "weights": _digest(c.weights, c.bias),
        }
        for c in b.classifiers
    }


def _conditions(b: Bundle) -> dict:
    return {
        c.id: {
            "name": c.name,
            "when": c.when.rule or f"{c.when.category} ≥ {c.when.at_least:g}",
            **{
                f"{t.category} (image)": f"review {t.review_at:g} · block {t.block_at:g}"
                for t in c.thresholds
            },
        }
        for c in b.conditions
    }


def _digest(vector, bias: float) -> str:
    """A short fingerprint of a concept's vector: changed examples show as a changed value."""
    data = np.asarray(vector, dtype=np.float32).round(5).tobytes() + str(round(bias, 5)).encode()
    return hashlib.sha256(data).hexdigest()[:12]

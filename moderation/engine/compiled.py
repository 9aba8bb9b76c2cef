"""A bundle made ready to evaluate: automata and stacked matrices, built once."""

from __future__ import annotations

import hashlib
import hmac

from moderation.engine.bundle.types import Bundle, CategoryThreshold, reads
from moderation.engine.classifiers import StackedClassifiers
from moderation.engine.concepts import StackedConcepts
from moderation.engine.conditions import image_categories, prompt_categories
from moderation.engine.decision import Stamp
from moderation.engine.embedding_rules import StackedEmbeddingSets
from moderation.engine.errors import BundleError
from moderation.engine.keywords import CompiledKeywordSet


class CompiledBundle:
    """A validated bundle with its keyword automata and vector matrices compiled."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.sha256 = bundle.sha256
        p = bundle.policy
        self.stamp = Stamp(p.tenant, p.slug, p.version, p.revision, self.sha256)
        keyword_sets = [
            CompiledKeywordSet(ks, f"keyword_sets[{i}]") for i, ks in enumerate(bundle.keyword_sets)
        ]
        # Sets on prompts, and sets on the text OCR reads in images (image_text.py).
        self.keyword_sets = tuple(
            k for k in keyword_sets if reads(k.keyword_set.applies_to, "prompt")
        )
        self.image_text_keyword_sets = tuple(
            k for k in keyword_sets if reads(k.keyword_set.applies_to, "image_text")
        )
        self.embedding = _stack_embedding_sets(bundle, "prompt")
        self.image_text_embedding = _stack_embedding_sets(bundle, "image_text")
        self.concepts = {
            encoder: StackedConcepts(
                [c for c in bundle.concepts if c.encoder == encoder], bundle.dims[encoder]
            )
            for encoder in sorted({c.encoder for c in bundle.concepts})
        }
        # Keyed by (target, encoder): one matrix product per target scores them all.
        self.classifiers = {
            key: StackedClassifiers(
                [c for c in bundle.classifiers if (c.target, c.encoder) == key],
                bundle.dims[key[1]],
            )
            for key in sorted({(c.target, c.encoder) for c in bundle.classifiers})
        }

    def thresholds(self, modality: str) -> tuple[CategoryThreshold, ...]:
        """Return the category thresholds that judge `modality`, in bundle order."""
        return tuple(t for t in self.bundle.thresholds if modality in t.modalities())

    def outputs_needed(self, modality: str) -> set[str]:
        """Return every model output the thresholds and classifiers of `modality` read."""
        mapping = self.bundle.category_outputs
        conditioned = (prompt_categories if modality == "prompt" else image_categories)(self.bundle)
        categories = {t.category for t in self.thresholds(modality)} | conditioned
        return {
            name for category in categories for name in mapping[category].for_modality(modality)
        } | {name for c in self.bundle.classifiers if c.target == modality for name in c.outputs}


def _stack_embedding_sets(bundle: Bundle, source: str) -> dict[str, StackedEmbeddingSets]:
    sets = [s for s in bundle.embedding_sets if reads(s.applies_to, source)]
    return {
        encoder: StackedEmbeddingSets(
            [s for s in sets if s.encoder == encoder], bundle.dims[encoder]
        )
        for encoder in sorted({s.encoder for s in sets})
    }


def compile_bundle(bundle: Bundle | CompiledBundle) -> CompiledBundle:
    """Return the compiled form of `bundle`, compiling it once and caching it on the bundle."""
    if isinstance(bundle, CompiledBundle):
        return bundle
    compiled = bundle.__dict__.get("_compiled")
    if compiled is None:
        compiled = CompiledBundle(bundle)
        object.__setattr__(bundle, "_compiled", compiled)
    return compiled


def load_bundle(data: bytes, *, sha256: str | None = None) -> CompiledBundle:
    """Verify (if `sha256` is given), parse, validate and compile canonical bundle bytes."""
    if sha256 is not None:
        actual = hashlib.sha256(bytes(data)).hexdigest()
        if not hmac.compare_digest(actual, sha256.lower()):
            raise BundleError(
                "",
                f"digest mismatch: expected sha256 {sha256}, the bytes have {actual}; "
                "the bundle was altered or truncated in transit, fetch it again",
            )
    return compile_bundle(Bundle.from_bytes(data))

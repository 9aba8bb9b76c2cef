"""This process's model registry and its cache of compiled bundles.

Below both apps: bundle building and publishing (authoring) and scoring
(moderation) use the same models, loaded once per process.
"""

import threading
from collections import OrderedDict

from moderation.engine.compiled import CompiledBundle, compile_bundle
from moderation.engine.models.registry import ModelRegistry, RegistryConfig, configure_registry

_lock = threading.Lock()
_registry: ModelRegistry | None = None
_compiled: OrderedDict[str, CompiledBundle] = OrderedDict()
COMPILED_CACHE_SIZE = 8


def models() -> ModelRegistry:
    """This process's model registry, configured once with the catalogue's example phrases."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = configure_registry(RegistryConfig.from_env().with_catalogue_examples())
        return _registry


def clip_calibrated() -> bool:
    """Whether this deployment's CLIP backbone has real weights (read from configuration only)."""
    return RegistryConfig.from_env().clip_pretrained is not None


def compiled(bundle) -> CompiledBundle:
    """The compiled form of a bundle, cached by sha256 so a re-test skips recompiling."""
    with _lock:
        hit = _compiled.get(bundle.sha256)
        if hit is not None:
            _compiled.move_to_end(bundle.sha256)
            return hit
    made = compile_bundle(bundle)
    with _lock:
        _compiled[bundle.sha256] = made
        while len(_compiled) > COMPILED_CACHE_SIZE:
            _compiled.popitem(last=False)
    return made

"""Model registry configuration, in code or from environment variables.

| variable | meaning | default |
| --- | --- | --- |
| MODERATION_DEVICE | auto, cpu or cuda | auto (CUDA when present, fp16 there) |
| MODERATION_PRECISION | auto, fp32, fp16 or bf16 (torch models, CUDA) | auto: fp16 on CUDA |
| MODERATION_TORCH_THREADS | torch's intra-op threads in this process | unset: torch's own |
| MODERATION_BLAS_THREADS | numpy's BLAS threads in this process (see ModelRegistry) | 1 |
| MODERATION_CLIP_MODEL | open_clip architecture name | mp-tiny (random weights: no meaning) |
| MODERATION_CLIP_PRETRAINED | checkpoint file or local-dir:<folder> | unset: seeded random init |
| MODERATION_CLIP_SEED | seed of the random init | 0 |
| MODERATION_NUDENET | 1/0: the NudeNet detector | 1 |
| MODERATION_NUDENET_FLOOR | raw NudeNet box score counted as absent below | 0.4 |
| MODERATION_OPENNSFW | 1/0: the open_nsfw classifier | 1 |
| MODERATION_CLIP_ZERO_SHOT | auto, 1 or 0: auto means on with real CLIP weights | auto |
| MODERATION_TEXT_CATEGORIES | YAML/JSON file: {category: [example phrases]} | none |
| MODERATION_CLIP_CATEGORIES | YAML/JSON file: {category: [CLIP prompts]} | from text phrases |
| MODERATION_CUSTOM_MODELS | YAML/JSON file: a list of custom model specs | none |
| MODERATION_OCR | 1/0: the OCR model that reads text in images (image_text rules) | 1 |
| MODERATION_OCR_MIN_CONFIDENCE | recognised lines below this confidence are dropped | 0.5 |
| MODERATION_OCR_MAX_SIDE | images are downscaled to this longest side before OCR | 1024 |
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from moderation.engine.catalogue import load_catalogue
from moderation.engine.models.clip import TINY_CLIP
from moderation.engine.models.nudenet import DEFAULT_FLOOR
from moderation.engine.models.ocr import DEFAULT_MAX_SIDE, DEFAULT_MIN_CONFIDENCE

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """An environment variable or configuration file has a value the registry cannot use."""


@dataclass
class RegistryConfig:
    """What the model registry loads and where; every field has a working offline default."""

    device: str = "auto"
    precision: str = "auto"
    torch_threads: int | None = None
    blas_threads: int | None = 1
    clip_model: str = TINY_CLIP
    clip_pretrained: str | None = None
    clip_seed: int = 0
    enable_nudenet: bool = True
    nudenet_floor: float = DEFAULT_FLOOR
    enable_opennsfw: bool = True
    enable_clip_zero_shot: bool | None = None
    text_category_examples: dict[str, list[str]] = field(default_factory=dict)
    clip_category_prompts: dict[str, list[str]] | None = None
    custom_models: list[dict] = field(default_factory=list)
    enable_ocr: bool = True
    ocr_min_confidence: float = DEFAULT_MIN_CONFIDENCE
    ocr_max_side: int = DEFAULT_MAX_SIDE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RegistryConfig:
        """Return a config read from MODERATION_* variables (see the module table)."""
        env = os.environ if environ is None else environ
        return cls(
            device=env.get("MODERATION_DEVICE", "auto").strip().lower() or "auto",
            precision=env.get("MODERATION_PRECISION", "auto").strip().lower() or "auto",
            torch_threads=_number(env, "MODERATION_TORCH_THREADS", int, None),
            blas_threads=_number(env, "MODERATION_BLAS_THREADS", int, 1),
            clip_model=env.get("MODERATION_CLIP_MODEL", "").strip() or TINY_CLIP,
            clip_pretrained=env.get("MODERATION_CLIP_PRETRAINED", "").strip() or None,
            clip_seed=_number(env, "MODERATION_CLIP_SEED", int, 0),
            enable_nudenet=_flag(env, "MODERATION_NUDENET", True),
            nudenet_floor=_number(env, "MODERATION_NUDENET_FLOOR", float, DEFAULT_FLOOR),
            enable_opennsfw=_flag(env, "MODERATION_OPENNSFW", True),
            enable_clip_zero_shot=_flag(env, "MODERATION_CLIP_ZERO_SHOT", None),
            text_category_examples=_phrases_file(env, "MODERATION_TEXT_CATEGORIES") or {},
            clip_category_prompts=_phrases_file(env, "MODERATION_CLIP_CATEGORIES"),
            custom_models=_custom_file(env, "MODERATION_CUSTOM_MODELS"),
            enable_ocr=_flag(env, "MODERATION_OCR", True),
            ocr_min_confidence=_number(
                env, "MODERATION_OCR_MIN_CONFIDENCE", float, DEFAULT_MIN_CONFIDENCE
            ),
            ocr_max_side=_number(env, "MODERATION_OCR_MAX_SIDE", int, DEFAULT_MAX_SIDE),
        )

    def with_catalogue_examples(self) -> RegistryConfig:
        """This config, with the catalogue's prompt examples when no text categories are set.

        The web, the workers and the fleet agent all run so: the `text` pin a published
        bundle records is then one every process that evaluates it can satisfy.
        """
        if self.text_category_examples:
            return self
        examples = load_catalogue().prompt_examples()
        return dataclasses.replace(self, text_category_examples=examples)


def load_data_file(path: str | Path, variable: str):
    """Return the parsed YAML or JSON content of a configuration file, or raise ConfigError."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{variable}={path}: cannot read the file ({exc.strerror})") from exc
    try:
        if file.suffix == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except (ValueError, ImportError) as exc:
        raise ConfigError(f"{variable}={path}: not valid YAML/JSON ({exc})") from exc


def _flag(env: Mapping[str, str], name: str, default: bool | None) -> bool | None:
    value = env.get(name, "").strip().lower()
    if not value or value == "auto":
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ConfigError(f"{name}={value!r}: use 1 or 0 (or auto where documented)")


def _number(env: Mapping[str, str], name: str, kind: type, default):
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return kind(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not a valid {kind.__name__}") from exc


def _phrases_file(env: Mapping[str, str], name: str) -> dict[str, list[str]] | None:
    if not env.get(name, "").strip():
        return None
    data = load_data_file(env[name].strip(), name)
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ConfigError(f"{name}: the file must map each category id to a list of phrases")
    return {str(key): [str(p) for p in value] for key, value in data.items()}


def _custom_file(env: Mapping[str, str], name: str) -> list[dict]:
    if not env.get(name, "").strip():
        return []
    data = load_data_file(env[name].strip(), name)
    if isinstance(data, dict) and "models" in data:
        data = data["models"]
    if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
        raise ConfigError(f"{name}: the file must hold a list of model specs (mappings)")
    return data

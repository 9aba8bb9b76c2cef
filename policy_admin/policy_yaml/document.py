"""A policy draft as a plain mapping and as deterministic YAML text; YAML read safely."""

import dataclasses
import re

import yaml

from policy_admin.models import (
    CategoryThreshold,
    ClipConcept,
    ConditionalRule,
    CustomClassifier,
    EmbeddingRuleSet,
    KeywordRuleSet,
    Policy,
    TextTarget,
)
from policy_admin.policy_yaml.conditions import condition_document
from policy_admin.policy_yaml.problems import PolicyYamlError, Problem
from tenants.scoping import scoped

SCHEMA_VERSION = 1
MAX_YAML_BYTES = 30 * 2**20
_TAG = re.compile(r"tag '([^']+)'")


def policy_document(policy: Policy) -> dict:
    """The policy's draft as a mapping in the schema's key order, every list in a stable order."""

    def rows(model, *related):
        queryset = scoped(model, policy.tenant).filter(policy=policy)
        return queryset.prefetch_related(*related) if related else queryset

    document = {
        "version": SCHEMA_VERSION,
        "policy": {
            "name": policy.name,
            "description": policy.description,
            "failure_mode": str(policy.failure_mode),
        },
        "rules": {
            "thresholds": [
                _threshold(t) for t in rows(CategoryThreshold).order_by("category", "applies_to")
            ],
            "keywords": [_keyword_set(k) for k in rows(KeywordRuleSet).order_by("name")],
            "embeddings": [_embedding_set(e) for e in rows(EmbeddingRuleSet).order_by("name")],
            "concepts": [_concept(c) for c in rows(ClipConcept, "images").order_by("name")],
            "classifiers": [
                _classifier(c)
                for c in rows(CustomClassifier)
                .filter(version__isnull=False)
                .order_by("name")
                .select_related("version")
            ],
        },
    }
    conditions = rows(ConditionalRule).select_related("keyword_set", "embedding_set")
    if conditions:  # left out when there are none: older exports keep their text
        document["rules"]["conditions"] = [
            condition_document(c) for c in conditions.order_by("name")
        ]
    return document


def _threshold(t) -> dict:
    return {
        "category": t.category,
        "applies_to": t.applies_to,
        "review_at": float(t.review_at),
        "block_at": float(t.block_at),
        "enabled": t.enabled,
    }


def _keyword_set(k) -> dict:
    return {
        "name": k.name,
        "action": k.action,
        **_applies_to(k),
        "options": dataclasses.asdict(k.match_options()),
        "languages": k.languages,
        "notes": k.notes,
        "allow_list": k.allow_list_terms(),
        "terms": k.term_list(),
    }


def _embedding_set(e) -> dict:
    return {
        "name": e.name,
        "action": e.action,
        "threshold": float(e.threshold),
        **_applies_to(e),
        "examples": list(e.examples),
        "counter_examples": list(e.counter_examples),
    }


def _applies_to(rule) -> dict:
    # Left out for prompts (the default), so exports made before image text existed
    # read the same.
    return {} if rule.applies_to == TextTarget.PROMPT else {"applies_to": str(rule.applies_to)}


def _classifier(c) -> dict:
    return {
        "name": c.name,
        "version": c.version.number,
        "threshold": float(c.threshold),
        "action": c.action,
    }


def _concept(c) -> dict:
    images = sorted(c.images.all(), key=lambda i: (not i.positive, i.original_name, i.sha256))
    return {
        "name": c.name,
        "action": c.action,
        "method": c.method,
        "threshold": float(c.threshold),
        "text_hints": list(c.text_hints),
        "images": [
            {
                "sha256": i.sha256,
                "filename": i.original_name,
                "polarity": "positive" if i.positive else "negative",
            }
            for i in images
        ],
    }


def dump(document: dict) -> str:
    """YAML text of a document: keys in schema order, block style, UTF-8, no timestamps."""
    name = " ".join(document["policy"]["name"].split())
    header = (
        f"# Policy “{name}” as code (schema version {document['version']}).\n"
        "# Import it with the policy's import page, the API or `manage.py policy_import`;\n"
        "# see docs/policy-as-code.md.\n"
    )
    body = yaml.dump(
        document,
        Dumper=_DUMPER,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=4096,
    )
    return header + body


def load(text: str | bytes):
    """Parse YAML with the safe loader only; syntax errors and tags become Problems."""
    if isinstance(text, bytes):
        text = _decode(text)
    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        raise PolicyYamlError(
            [
                Problem(
                    "",
                    f"The YAML is {size / 2**20:.1f} MB; a policy file may be at most "
                    f"{MAX_YAML_BYTES // 2**20} MB. Split very large keyword lists into "
                    "several keyword sets or import their terms separately.",
                )
            ]
        )
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - the safe loader (C or Python)
    except yaml.constructor.ConstructorError as error:
        raise PolicyYamlError([_tag_problem(error)]) from None
    except yaml.MarkedYAMLError as error:
        raise PolicyYamlError([_syntax_problem(error)]) from None
    except yaml.YAMLError as error:
        raise PolicyYamlError([Problem("", f"The file is not valid YAML: {error}")]) from None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PolicyYamlError(
            [
                Problem(
                    "",
                    f"The file is not UTF-8 text (byte {error.start} cannot be read). "
                    "Save it as UTF-8 and import it again.",
                )
            ]
        ) from None


def _where(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"


def _tag_problem(error: yaml.constructor.ConstructorError) -> Problem:
    found = _TAG.search(str(error.problem or ""))
    tag = found.group(1).replace("tag:yaml.org,2002:", "!!") if found else "this tag"
    return Problem(
        "",
        f"{_where(error)}: the tag {tag} is not allowed. A policy file holds plain "
        "mappings, lists, strings, numbers and booleans only; remove the tag.",
    )


def _syntax_problem(error: yaml.MarkedYAMLError) -> Problem:
    what = " ".join(p for p in (error.context, error.problem) if p)
    return Problem(
        "",
        f"{_where(error)}: YAML syntax error: {what}. Check the indentation and quoting there.",
    )


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
